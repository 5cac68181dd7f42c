"""Identity's admin actions: verification, roles, suspension, reinstatement and erasure.

Each is one audited unit (services.identity.audited): the actor's live account decides, the
decision is recorded in the transaction of the change, and no record means no change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from plumbing.auth.claims import AccessClaims
from plumbing.auth.service import ServicePrincipal, require_service
from plumbing.errors import PermissionDenied
from services.identity.audited import Access, Actor, AuditedUnits
from services.identity.checks import as_staff, check_user_id, require_caller
from services.identity.domain.access import (
    ADMIN_ERASURE_PURPOSE,
    ERASED_FIELDS,
    PROFILE_FIELDS,
    REINSTATE_PURPOSE,
    ROLES_PURPOSE,
    SELF_ERASURE_PURPOSE,
    VERIFY_PURPOSE,
    AccessAction,
    ActorRole,
)
from services.identity.domain.events import events_between
from services.identity.domain.physician import Physician, Role
from services.identity.domain.staff import require_live
from services.identity.ports import ErasureJournal, IdentityStore

log = logging.getLogger("consilium.identity")

#: The purpose of a suspension whose caller gave no reason (the servicer requires one).
SUSPEND_PURPOSE = "suspension"


class AdminActions:
    """The admin half of IdentityService (which sets these attributes)."""

    _store: IdentityStore
    _erasures: ErasureJournal
    _units: AuditedUnits

    async def verify(
        self, caller: AccessClaims | None, user_id: str, *, approve: bool
    ) -> Physician:
        access = Access(AccessAction.VERIFY_PHYSICIAN, VERIFY_PURPOSE, PROFILE_FIELDS)
        return await self._change(caller, user_id, access, lambda p: p.verify(approve=approve))

    async def set_roles(
        self, caller: AccessClaims | None, user_id: str, roles: Iterable[Role]
    ) -> Physician:
        wanted = frozenset(roles)
        access = Access(AccessAction.SET_ROLES, ROLES_PURPOSE, PROFILE_FIELDS)
        return await self._change(caller, user_id, access, lambda p: p.with_roles(wanted))

    async def suspend(
        self,
        caller: AccessClaims | None,
        user_id: str,
        *,
        reason: str = "",
        service: ServicePrincipal | None = None,
    ) -> Physician:
        """By an ADMIN, or by anonymity when a moderator suspends the person behind an alias.

        `reason` is the recorded purpose.
        """
        access = Access(
            AccessAction.SUSPEND_PHYSICIAN, reason.strip() or SUSPEND_PURPOSE, PROFILE_FIELDS
        )
        return await self._change(caller, user_id, access, lambda p: p.suspend(), service=service)

    async def reinstate(
        self,
        caller: AccessClaims | None,
        user_id: str,
        *,
        service: ServicePrincipal | None = None,
    ) -> Physician:
        """Lifts a suspension; by an ADMIN or by anonymity, as for `suspend`."""
        access = Access(AccessAction.REINSTATE_PHYSICIAN, REINSTATE_PURPOSE, PROFILE_FIELDS)
        return await self._change(caller, user_id, access, lambda p: p.reinstate(), service=service)

    async def erase(self, caller: AccessClaims | None, user_id: str) -> Physician:
        """Right to be forgotten: by the person themself (also while suspended) or by an ADMIN.

        Recorded like every admin action; the event names the person (and, when they erase
        themself, the actor too) by blind tag only, and the sealed link is shredded with the
        rest, so the event survives the erasure without linking. The erasure journal is
        written before the transaction commits, so a database restored from an older backup
        is erased again at the next start (`replay_erasures`).
        """
        actor = require_caller(caller)
        check_user_id(user_id)
        if user_id == actor.user_id:
            by: Actor = Actor(actor.user_id, ActorRole.MEMBER)
            purpose = SELF_ERASURE_PURPOSE

            def permit(current: Physician | None) -> None:
                return None

        else:
            by = as_staff(actor, Role.ADMIN)
            purpose = ADMIN_ERASURE_PURPOSE

            def permit(current: Physician | None) -> None:
                require_live(current, Role.ADMIN)

        erased = await self._units.change(
            by,
            user_id,
            Access(AccessAction.ERASE_PHYSICIAN, purpose, ERASED_FIELDS),
            permit,
            lambda p: p.erase(),
            before_commit=self._erasures.record,
        )
        log.info("physician erased")
        return erased

    async def replay_erasures(self) -> int:
        """Erases again everyone the journal lists that the database still holds data of.

        Run before serving: after a restore from backup, personal data and audit sealing
        keys of people erased since the backup are back; this removes them again, and
        PhysicianErased goes out again so anonymity shreds its own copy too.
        """
        async with self._store.transaction() as repo:
            candidates = await repo.erasure_candidates()
        again = await self._erasures.replay(candidates, self._erase_again)
        if again:
            log.info("erasure journal replayed: %d people erased again", again)
        return again

    async def _erase_again(self, user_id: str) -> None:
        async with self._store.transaction() as repo:
            physician = await repo.get(user_id, for_update=True)
            if physician is None or physician.erased:
                await repo.shred_audit_key(user_id)
                return
            erased = physician.erase()
            await repo.save(erased)
            await repo.emit(events_between(physician, erased))

    async def _change(
        self,
        caller: AccessClaims | None,
        user_id: str,
        access: Access,
        change: Callable[[Physician], Physician],
        *,
        service: ServicePrincipal | None = None,
    ) -> Physician:
        """An audited account change by a live ADMIN or, with `service`, by anonymity.

        A service credential, when presented, is what authorises the call: anonymity acts on
        behalf of a moderator it has already checked and audited. Granted or refused, the
        decision is one event in the transaction of the change.
        """
        if service is not None:
            check_user_id(user_id)
            actor = Actor(service.name, ActorRole.SERVICE)

            def permit(current: Physician | None) -> None:
                require_service(service, "anonymity")

        else:
            claims = require_caller(caller)
            check_user_id(user_id)
            actor = as_staff(claims, Role.ADMIN)

            def permit(current: Physician | None) -> None:
                require_live(current, Role.ADMIN)
                if user_id == claims.user_id:
                    raise PermissionDenied("admins cannot change their own account status or roles")

        changed = await self._units.change(actor, user_id, access, permit, change)
        log.info("%s by %s", access.action.value.lower(), actor.role.value.lower())
        return changed
