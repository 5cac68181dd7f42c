"""What the anonymity use cases need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from plumbing.auth import AccessClaims, Role
from services.anonymity.domain.access import AccessRecord
from services.anonymity.domain.aliases import AliasState, FrozenPersona, StoredAlias, UserKey
from services.anonymity.domain.events import AliasEvent
from services.anonymity.domain.people import StoredPerson
from services.anonymity.domain.personas import PersonaAttributes


class IndexRepository(Protocol):
    """Rows of people's sealed indexes by key (services.anonymity.domain.inbox)."""

    async def has(self, row_key: str) -> bool: ...

    async def get(self, row_keys: Iterable[str]) -> dict[str, bytes]: ...

    async def add(self, row_key: str, sealed: bytes) -> bool:
        """Appends a row; False (and nothing written) when the key is taken already."""

    async def put(self, row_key: str, sealed: bytes) -> None:
        """Writes a row whether or not it exists (a read marker)."""


class AliasRepository(Protocol):
    """Aliases, data keys, person records and thread scopes inside one transaction."""

    @property
    def index(self) -> IndexRepository:
        """People's sealed indexes, in the same transaction."""

    async def add_scope(self, scope_id: str, now: datetime) -> None: ...

    async def scope_exists(self, scope_id: str) -> bool: ...

    async def get_user_key(self, owner_index: str, *, for_update: bool = False) -> UserKey | None:
        """The person's wrapped data key, by blind index."""

    async def get_user_keys(self, owner_indexes: Iterable[str]) -> dict[str, UserKey]: ...

    async def add_user_key(self, key: UserKey) -> UserKey:
        """Stores a new data key; if a concurrent call stored one first, returns that one."""

    async def set_suspended(self, owner_index: str, suspended: bool) -> None: ...

    async def find_by_slots(self, slots: Iterable[str]) -> dict[str, StoredAlias]:
        """Aliases by their (person, visibility, scope) slot value."""

    async def add_alias(self, alias: StoredAlias) -> bool:
        """Stores an alias (and nothing else); False if the slot was taken."""

    async def get_aliases(self, alias_ids: Iterable[str]) -> dict[str, StoredAlias]: ...

    async def owned_aliases_after(self, after: str, limit: int) -> list[StoredAlias]:
        """Up to `limit` aliases that still have an owner, by alias id after `after`."""

    async def unfrozen_aliases_after(self, after: str, limit: int) -> list[StoredAlias]:
        """Up to `limit` aliases with no frozen persona yet, by alias id after `after`."""

    async def freeze_persona(
        self, alias_id: str, persona: FrozenPersona, name_ciphertext: bytes | None
    ) -> None:
        """Stores the alias's frozen persona, unless it already has one."""

    async def set_states(self, alias_ids: Iterable[str], state: AliasState) -> None: ...

    async def rewrite_owner(self, alias: StoredAlias) -> None:
        """Stores the alias's slot, owner seal, owner and name ciphertexts as given."""

    async def delete_user_key(self, owner_index: str) -> None:
        """Deletes the person's data key: crypto-shreds what it encrypted."""

    async def get_people(self, owner_indexes: Iterable[str]) -> dict[str, StoredPerson]:
        """Person records by blind index; people identity has not told us about are absent."""

    async def put_person(self, person: StoredPerson, now: datetime) -> None:
        """Inserts or replaces the person's record."""

    async def delete_person(self, owner_index: str) -> None: ...

    async def adjust_verified_counts(self, deltas: Mapping[str, int]) -> None:
        """Adds each delta to its specialty's count of VERIFIED people."""

    async def verified_counts(self) -> dict[str, int]:
        """VERIFIED people per specialty code (codes with none are absent)."""

    async def queue(self, events: Sequence[AliasEvent]) -> None:
        """Queues alias events for content: published only if this transaction commits."""


class AliasReader(Protocol):
    """The reads of read-only calls: aliases by id or by slot, data keys; nothing written."""

    async def get_aliases(self, alias_ids: Iterable[str]) -> dict[str, StoredAlias]: ...

    async def find_by_slots(self, slots: Iterable[str]) -> dict[str, StoredAlias]: ...

    async def alias_ids_by_slots(self, slots: Iterable[str]) -> dict[str, str]:
        """slot -> alias id, for the slots that hold an alias."""
        ...

    async def get_user_keys(self, owner_indexes: Iterable[str]) -> dict[str, UserKey]: ...


class AnonymityStore(Protocol):
    """Opens units of work: a repository whose changes commit together or not at all."""

    def transaction(self) -> AbstractAsyncContextManager[AliasRepository]: ...

    def reading(self) -> AbstractAsyncContextManager[AliasReader]:
        """Reads outside a unit of work (each sees committed rows); for read-only calls."""
        ...


class AccessRecordWriter(Protocol):
    """Makes an identity-access record durable (committed) before the caller goes on."""

    async def write(self, record: AccessRecord) -> None:
        """Raises if the record could not be made durable; the caller must then fail closed."""


class AccountModeration(Protocol):
    """Identity's account actions anonymity asks for on a moderator's behalf."""

    async def suspend_account(self, user_id: str, reason: str) -> None:
        """Suspends the account; returns quietly if it is already suspended (or cannot be).

        Raises Unavailable if identity could not be reached or refused the service.
        """

    async def reinstate_account(self, user_id: str) -> None:
        """Lifts the suspension; returns quietly if the account is not suspended."""


class PersonaAttributesSource(Protocol):
    """Identity's facts about people, as far as personas need them."""

    async def attributes(self, user_ids: Iterable[str]) -> dict[str, PersonaAttributes]:
        """By user id; unknown ids are absent."""

    async def verified_counts(self) -> Mapping[str, int]:
        """VERIFIED members per specialty code, for k-anonymity."""

    async def specialty_names(self) -> Mapping[str, str]:
        """Display names by specialty code."""


class StaffCheck(Protocol):
    """The actor's current standing at identity (`plumbing.auth.live.LiveStaffCheck`).

    `require` raises PermissionDenied (with the reason) for an account that is gone,
    suspended or no longer holds one of `allowed`, and Unavailable if identity cannot be
    asked: staff powers are never decided on the token alone.
    """

    async def require(self, actor: AccessClaims, *allowed: Role) -> object: ...
