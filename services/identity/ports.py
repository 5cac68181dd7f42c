"""What the identity use cases need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from services.identity.domain.access import IdentityAccess
from services.identity.domain.events import PhysicianEvent
from services.identity.domain.physician import Physician
from services.identity.domain.throttle import ThrottleState


class LoginAttempts(Protocol):
    """Failed sign-ins per throttle key (a keyed hash), inside the unit of work."""

    async def lock(self, keys: Iterable[str]) -> dict[str, ThrottleState]:
        """Each key's state (new keys start empty), locked until the unit ends."""

    async def save(self, key: str, state: ThrottleState) -> None: ...

    async def forget(self, keys: Iterable[str]) -> None: ...

    async def forget_quiet(self, before: datetime, now: datetime) -> int:
        """Deletes states with no failure since `before` and no block after `now`; how many."""


class PhysicianRepository(Protocol):
    """Physicians and their password hashes, inside one transaction."""

    @property
    def login_attempts(self) -> LoginAttempts:
        """The sign-in throttle's state, in this same unit of work."""

    async def add(self, physician: Physician, password_hash: str) -> None:
        """Stores a new physician; AlreadyExists naming `email` and/or `npi` when taken."""

    async def get(self, user_id: str, *, for_update: bool = False) -> Physician | None: ...

    async def get_many(self, user_ids: Iterable[str]) -> dict[str, Physician]: ...

    async def find_login(self, email: str) -> tuple[Physician, str] | None:
        """The physician with this (normalised) email and their password hash."""

    async def taken_fields(self, email: str, npi: str) -> list[str]:
        """Which of `email`, `npi` already belong to an account."""

    async def save(self, physician: Physician) -> None:
        """Persists a changed physician (an erased one loses its personal data, its hash and
        its follows)."""

    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...

    async def count_verified_by_specialty(self) -> dict[str, int]: ...

    async def has_any(self) -> bool: ...

    async def emit(self, events: Sequence[PhysicianEvent]) -> None:
        """Queues `events` for publishing: they go out if, and only if, this unit commits."""

    async def followed(self, user_id: str) -> list[str]:
        """The community ids the person follows, oldest follow first."""

    async def count_follows(self, user_id: str) -> int: ...

    async def follow(self, user_id: str, community_id: str, now: datetime) -> None:
        """Adds the follow; already following changes nothing."""

    async def unfollow(self, user_id: str, community_id: str) -> None: ...

    async def erasure_candidates(self) -> list[str]:
        """User ids a replayed erasure could still find something of: unerased physicians
        and anyone holding an audit sealing key."""

    async def shred_audit_key(self, user_id: str) -> None:
        """Deletes the person's audit sealing key (their audit links can never open again)."""

    async def lock_audit_chain(self) -> None:
        """Takes the audit chain's lock for the rest of the unit, before anything is read.

        For units that read first (the actor's live roles, the state before a change) to know
        what their record will say; `record_accesses` then appends under the same lock.
        """

    async def record_accesses(self, accesses: Sequence[IdentityAccess]) -> None:
        """Chains, signs and queues one audit event per access, with this unit's commit.

        Call it first in the unit: it takes the audit chain's lock before anything is read.
        """


class IdentityStore(Protocol):
    """Opens units of work: a repository whose changes commit together or not at all."""

    def transaction(self) -> AbstractAsyncContextManager[PhysicianRepository]: ...


class ErasureJournal(Protocol):
    """Who was erased, kept where a database restore does not reach (plumbing.erasurelog)."""

    async def record(self, user_id: str) -> None:
        """Durably notes the erasure (by a blind tag only); call it before the erasure commits."""

    async def replay(self, user_ids: Iterable[str], erase: Callable[[str], Awaitable[None]]) -> int:
        """Calls `erase` for each of `user_ids` the journal lists; returns how many."""
