"""Audited units of work: an identity read or change decided, recorded and done in one transaction.

Each unit takes the audit chain's lock first, then reads the actor's account as it is now
(live powers: a token's roles may be stale), decides, records the decision (GRANTED or
DENIED, one event per subject) and, only when granted, reads or changes. The record and the
change commit together; a refusal commits its record and then raises. Fail closed: when the
record cannot be written the call fails UNAVAILABLE and nothing is disclosed or changed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from plumbing.errors import DomainError, NotFound, PermissionDenied, Unavailable
from services.identity.domain.access import AccessAction, ActorRole, IdentityAccess, accesses
from services.identity.domain.events import events_between
from services.identity.domain.physician import Physician
from services.identity.domain.staff import change_fields
from services.identity.ports import IdentityStore, PhysicianRepository

log = logging.getLogger("consilium.identity")

UNRECORDED = (
    "the identity access could not be recorded, so nothing was disclosed; try again shortly"
)

#: Decides from the actor's live account (None: a service, or no such account); raises
#: PermissionDenied to refuse.
Permit = Callable[[Physician | None], None]

Refusal = PermissionDenied | None

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, in which role, and whose account (if any) decides their powers live."""

    actor_id: str
    role: ActorRole
    #: The user id whose current account `permit` receives; empty for a service.
    live_user: str = ""


@dataclass(frozen=True, slots=True)
class Access:
    """What the unit does, as its audit event will say."""

    action: AccessAction
    purpose: str
    #: Fields disclosed (reads, and changes that return the profile) or deleted (erasure).
    fields: tuple[str, ...]


class AuditedUnits:
    """Runs identity reads and changes as audited, fail-closed units over `store`."""

    def __init__(self, store: IdentityStore, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    async def read(
        self,
        actor: Actor,
        subjects: list[str],
        access: Access,
        permit: Permit,
        *,
        also_read: list[str] | None = None,
    ) -> dict[str, Physician]:
        """Profiles of `subjects` (and `also_read`) if permitted; one event per subject."""

        async def unit(repo: PhysicianRepository) -> tuple[dict[str, Physician], Refusal]:
            denial = await self._decide(repo, actor, permit)
            await repo.record_accesses(self._records(actor, subjects, access, denial))
            if denial is not None:
                return {}, denial
            return await repo.get_many(also_read or subjects), None

        return await self._run(unit)

    async def change(
        self,
        actor: Actor,
        subject: str,
        access: Access,
        permit: Permit,
        change: Callable[[Physician], Physician],
        *,
        before_commit: Callable[[str], Awaitable[None]] | None = None,
    ) -> Physician:
        """`change` applied to `subject` if permitted, with its one event, in one transaction.

        The event names `access.fields` and each status or role change (before -> after). A
        change the domain refuses (not found, wrong state) rolls back with no event: nothing
        was disclosed or changed. `before_commit(subject)` runs inside the unit (the erasure
        journal must hold the erasure before it commits).
        """

        async def unit(repo: PhysicianRepository) -> tuple[Physician | None, Refusal]:
            denial = await self._decide(repo, actor, permit)
            if denial is not None:
                await repo.record_accesses(self._records(actor, [subject], access, denial))
                return None, denial
            before = await repo.get(subject, for_update=True)
            if before is None:
                raise NotFound("no physician with that user id")
            after = change(before)
            changed = Access(
                access.action, access.purpose, access.fields + change_fields(before, after)
            )
            await repo.record_accesses(self._records(actor, [subject], changed, None))
            if before_commit is not None:
                await before_commit(subject)
            await repo.save(after)
            await repo.emit(events_between(before, after))
            return after, None

        changed = await self._run(unit)
        assert changed is not None  # a refusal raised in `_run`
        return changed

    async def _decide(self, repo: PhysicianRepository, actor: Actor, permit: Permit) -> Refusal:
        await repo.lock_audit_chain()
        current = await repo.get(actor.live_user) if actor.live_user else None
        try:
            permit(current)
        except PermissionDenied as denied:
            return denied
        return None

    def _records(
        self, actor: Actor, subjects: list[str], access: Access, denial: Refusal
    ) -> list[IdentityAccess]:
        return accesses(
            subjects,
            occurred_at=self._clock(),
            actor_id=actor.actor_id,
            actor_role=actor.role,
            action=access.action,
            fields=access.fields,
            purpose=access.purpose,
            denial_reason=f"PERMISSION_DENIED: {denial}" if denial is not None else "",
        )

    async def _run(
        self, unit: Callable[[PhysicianRepository], Awaitable[tuple[_T, Refusal]]]
    ) -> _T:
        """Runs `unit` in a transaction; a refusal is raised once its record has committed."""
        try:
            async with self._store.transaction() as repo:
                result, denial = await unit(repo)
        except DomainError:
            raise
        except Exception as exc:
            # Type only: driver messages quote statement parameters (user ids).
            log.error("identity access not recorded (%s)", type(exc).__name__)
            raise Unavailable(UNRECORDED) from None
        if denial is not None:
            raise denial
        return result
