"""Reveal under purpose and acting on an alias: staff only, recorded first, fail-closed (P3, A1).

Every attempt leaves an identity-access record, written and committed through the
`AccessRecordWriter` before anything is returned or changed: refusals (wrong role, no
purpose, unknown or erased alias) are DENIED records, and if a record cannot be written
the call fails with UNAVAILABLE and nothing leaves. A reveal decrypts the user id in
memory first, so a GRANTED record is only written for an identity that really resolves.

Acting on an alias hides or shows that one alias, never the person's others (P2): SUSPEND
hides the acted alias (one AliasSuspended, cause MODERATION, for content), bans the person
from writing here and asks identity to suspend the account (whose PhysicianSuspended only
sets the same ban); REINSTATE shows the acted alias again (one AliasReinstated), lifts the
ban and asks identity to reinstate the account. HIDE and UNHIDE hide or show one more
alias and leave the account alone; they work on an erased person's alias too, since they
need nobody behind it. The moderator never learns who it was. The alias and the ban are
changed in separate transactions, so no row stamp ties the alias to its owner's key row.
If identity cannot be reached, the local part stands and the call fails UNAVAILABLE:
acting again is safe and completes the account part.

Staff powers are checked live (issue 10, finding 3): the token's role only lets the call
go further, then identity is asked for the actor's current status and roles (`StaffCheck`,
answers reused at most ~1 s). A demoted, suspended or erased moderator is refused as
PERMISSION_DENIED, and an identity that cannot be asked refuses as UNAVAILABLE; either
way the refusal is recorded, once, as DENIED with its reason before the call fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from plumbing.auth import AccessClaims, Role
from plumbing.errors import (
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from plumbing.telemetry import detached_trace
from services.anonymity.domain.access import STAFF_ROLES, AccessAction, Decision, is_staff
from services.anonymity.domain.aliases import AliasAction, AliasState, StoredAlias, is_alias_id
from services.anonymity.domain.crypto import CryptoError
from services.anonymity.domain.events import AliasReinstated, AliasSuspended, SuspensionCause
from services.anonymity.ports import AccountModeration, AnonymityStore, StaffCheck
from services.anonymity.recorder import AccessRecorder, denial_reason
from services.anonymity.vault import Vault

log = logging.getLogger("consilium.anonymity")

_ACTIONS = {
    AliasAction.SUSPEND: AccessAction.SUSPEND_ALIAS_OWNER,
    AliasAction.REINSTATE: AccessAction.REINSTATE_ALIAS_OWNER,
    AliasAction.HIDE: AccessAction.HIDE_ALIAS,
    AliasAction.UNHIDE: AccessAction.UNHIDE_ALIAS,
}
#: Actions on the alias alone: no owner needed, the account is left alone.
_ALIAS_ONLY = (AliasAction.HIDE, AliasAction.UNHIDE)
#: Actions that hide the alias (the others show it again).
_HIDING = (AliasAction.SUSPEND, AliasAction.HIDE)
_STAFF_ONLY = "only a MODERATOR or ADMIN may do this; the attempt was recorded"
_ERASED = "the person behind this alias was erased; there is nobody to reveal or act on"
#: What a moderator may do to a reported post or comment (content's ModerationAction).
_CONTENT_ACTIONS = ("HIDE_CONTENT", "DISMISS")


@dataclass(frozen=True, slots=True)
class Revealed:
    user_id: str
    record_id: str


@dataclass(frozen=True, slots=True)
class Acted:
    state: AliasState
    record_id: str


class _Refused(Exception):
    """A refusal to record as DENIED, then raise as `error`."""

    def __init__(self, error: DomainError, *, live: bool = False) -> None:
        self.error = error
        self.live = live  # refused by identity's live answer: the reason says why


def access_of(action: AliasAction | None) -> AccessAction:
    """The recorded action of an ActOnAlias attempt."""
    # An attempt without a valid action is still recorded, as the more serious one.
    return _ACTIONS[action] if action else AccessAction.SUSPEND_ALIAS_OWNER


async def check_live(live: StaffCheck | None, caller: AccessClaims, *allowed: Role) -> None:
    """The caller's current standing at identity allows one of `allowed`; else _Refused."""
    if live is None:
        return
    try:
        await live.require(caller, *allowed)
    except (PermissionDenied, Unavailable) as error:
        raise _Refused(error, live=True) from None


class ModerationService:
    """RevealAlias and ActOnAlias."""

    def __init__(
        self,
        store: AnonymityStore,
        vault: Vault,
        recorder: AccessRecorder,
        *,
        accounts: AccountModeration | None = None,
        live: StaffCheck | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._vault = vault
        self._recorder = recorder
        self._accounts = accounts
        self._live = live
        self._clock = clock

    async def reveal(self, caller: AccessClaims | None, alias_id: str, purpose: str) -> Revealed:
        """Who is behind `alias_id`, once a GRANTED record is durable."""
        purpose = purpose.strip()
        try:
            alias = await self._checked(caller, alias_id, purpose, "purpose")
            user_id = await self._user_id(alias)
        except _Refused as refused:
            await self._deny(caller, AccessAction.REVEAL_ALIAS, alias_id, purpose, refused)
            raise refused.error from None
        record_id = await self._recorder.record(
            caller,
            action=AccessAction.REVEAL_ALIAS,
            subject=alias_id,
            purpose=purpose,
            decision=Decision.GRANTED,
        )
        log.info("alias revealed under a recorded purpose")
        return Revealed(user_id=user_id, record_id=record_id)

    async def act(
        self, caller: AccessClaims | None, alias_id: str, action: AliasAction | None, reason: str
    ) -> Acted:
        """Hides or shows `alias_id` and, for SUSPEND/REINSTATE, bans or lifts its owner."""
        reason = reason.strip()
        access = access_of(action)
        try:
            if action is None:
                raise _Refused(
                    InvalidArgument(
                        [FieldViolation("action", "choose SUSPEND, REINSTATE, HIDE or UNHIDE")]
                    )
                )
            alias_only = action in _ALIAS_ONLY
            alias = await self._checked(
                caller, alias_id, reason, "reason", allow_orphaned=alias_only
            )
            owner_index = None if alias_only else await self._live_owner(alias)
        except _Refused as refused:
            await self._deny(caller, access, alias_id, reason, refused)
            raise refused.error from None
        record_id = await self._recorder.record(
            caller, action=access, subject=alias_id, purpose=reason, decision=Decision.GRANTED
        )
        hide = action in _HIDING
        user_id = None
        if owner_index is not None:
            user_id = await self._ban(alias, owner_index, banned=hide)
        state = await self._show(alias_id, hidden=hide)
        if self._accounts is not None and user_id is not None:
            # The account change is person-keyed: identity's event about it must not share
            # this request's trace with the alias-keyed event above.
            with detached_trace("moderation account change"):
                if hide:
                    await self._accounts.suspend_account(user_id, reason)
                else:
                    await self._accounts.reinstate_account(user_id)
        log.info("moderation action on an alias applied")
        return Acted(state=state, record_id=record_id)

    async def record_content_action(
        self, caller: AccessClaims | None, item_id: str, action: str, reason: str
    ) -> str:
        """Records a moderator's action on a reported post or comment, before content applies
        it; the GRANTED record's id. Content keeps no user id: this record is who acted."""
        reason = reason.strip()
        purpose = f"{action}: {reason}"
        try:
            if caller is None:
                raise _Refused(Unauthenticated("sign in first: this call needs an access token"))
            if not is_staff(caller):
                raise _Refused(PermissionDenied(_STAFF_ONLY))
            if action not in _CONTENT_ACTIONS:
                choose = "choose " + " or ".join(_CONTENT_ACTIONS)
                raise _Refused(InvalidArgument([FieldViolation("action", choose)]))
            if not reason:
                say_why = "say why, in words an auditor can judge"
                raise _Refused(InvalidArgument([FieldViolation("reason", say_why)]))
            if not item_id.startswith(("pst_", "cmt_")) or len(item_id) > 64:
                not_item = "not a post or comment id (pst_..., cmt_...)"
                raise _Refused(InvalidArgument([FieldViolation("item_id", not_item)]))
            await check_live(self._live, caller, *STAFF_ROLES)
        except _Refused as refused:
            await self._deny(caller, AccessAction.MODERATE_CONTENT, item_id, purpose, refused)
            raise refused.error from None
        return await self._recorder.record(
            caller,
            action=AccessAction.MODERATE_CONTENT,
            subject=item_id,
            purpose=purpose,
            decision=Decision.GRANTED,
        )

    async def _ban(self, alias: StoredAlias, owner_index: str, *, banned: bool) -> str:
        """Sets the owner's write ban in a transaction of its own; the owner's user id."""
        async with self._store.transaction() as repo:
            key = await repo.get_user_key(owner_index, for_update=True)
            if key is None:
                raise FailedPrecondition(_ERASED)  # erased since the check: nothing to act on
            try:
                user_id = self._vault.user_id_of(alias, self._vault.data_key(key))
            except CryptoError:
                raise FailedPrecondition(_ERASED) from None
            await repo.set_suspended(owner_index, banned)
        return user_id

    async def _show(self, alias_id: str, *, hidden: bool) -> AliasState:
        """Hides or shows the one alias; one alias event if its state changed."""
        async with self._store.transaction() as repo:
            alias = (await repo.get_aliases([alias_id]))[alias_id]
            if alias.state is AliasState.ORPHANED:
                return alias.state  # erased before freezing: content already knows
            target = AliasState.SUSPENDED if hidden else AliasState.ACTIVE
            if alias.state is not target:
                await repo.set_states([alias_id], target)
                event = (
                    AliasSuspended(alias_id, SuspensionCause.MODERATION)
                    if hidden
                    else AliasReinstated(alias_id)
                )
                await repo.queue([event])
        return target

    async def _checked(
        self,
        caller: AccessClaims | None,
        alias_id: str,
        why: str,
        why_field: str,
        *,
        allow_orphaned: bool = False,
    ) -> StoredAlias:
        """The alias, if the caller may act on it and said why; else _Refused."""
        if caller is None:
            raise _Refused(Unauthenticated("sign in first: this call needs an access token"))
        if not is_staff(caller):
            raise _Refused(PermissionDenied(_STAFF_ONLY))
        if not why:
            raise _Refused(
                InvalidArgument(
                    [FieldViolation(why_field, "say why, in words an auditor can judge")]
                )
            )
        if not is_alias_id(alias_id):
            raise _Refused(
                InvalidArgument([FieldViolation("alias_id", "not an alias id (als_...)")])
            )
        await check_live(self._live, caller, *STAFF_ROLES)
        async with self._store.transaction() as repo:
            alias = (await repo.get_aliases([alias_id])).get(alias_id)
        if alias is None:
            raise _Refused(NotFound("no alias with that id"))
        if alias.orphaned and not allow_orphaned:
            raise _Refused(FailedPrecondition(_ERASED))
        return alias

    def _owner_index(self, alias: StoredAlias) -> str:
        try:
            return self._vault.owner_index_of(alias)
        except CryptoError:
            raise _Refused(FailedPrecondition(_ERASED)) from None

    async def _live_owner(self, alias: StoredAlias) -> str:
        """The owner's blind index, if they still have a data key (else erased: _Refused)."""
        owner_index = self._owner_index(alias)
        async with self._store.transaction() as repo:
            key = await repo.get_user_key(owner_index)
        if key is None:
            raise _Refused(FailedPrecondition(_ERASED))
        return owner_index

    async def _user_id(self, alias: StoredAlias) -> str:
        owner_index = self._owner_index(alias)
        async with self._store.transaction() as repo:
            key = await repo.get_user_key(owner_index)
        if key is None:
            raise _Refused(FailedPrecondition(_ERASED))
        try:
            return self._vault.user_id_of(alias, self._vault.data_key(key))
        except CryptoError:
            raise _Refused(FailedPrecondition(_ERASED)) from None

    async def _deny(
        self,
        caller: AccessClaims | None,
        action: AccessAction,
        alias_id: str,
        why: str,
        refused: _Refused,
    ) -> None:
        # The subject is whatever was asked for, cut short: a malformed id is still evidence.
        await self._recorder.record(
            caller,
            action=action,
            subject=alias_id[:64],
            purpose=why[:2000],
            decision=Decision.DENIED,
            reason=denial_reason(refused.error, live=refused.live),
        )

    async def refuse_unverifiable(
        self, access: AccessAction, alias_id: str, why: str, error: Unavailable
    ) -> None:
        """Records a staff attempt whose token could not be checked (key set unreachable).

        The token's claims are unknown, so the actor is recorded as unauthenticated;
        the attempt is still evidence. Raises `error` once recorded (UNAVAILABLE either way).
        """
        await self._deny(None, access, alias_id, why.strip(), _Refused(error, live=True))
        raise error
