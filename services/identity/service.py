"""Identity use cases: registration, sign-in, verification, roles, suspension, erasure."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from plumbing.auth.claims import AccessClaims
from plumbing.auth.service import RevealGrant, ServicePrincipal, require_service
from plumbing.errors import (
    AlreadyExists,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from services.identity.audited import UNRECORDED, Access, Actor, AuditedUnits
from services.identity.domain.access import (
    ADMIN_ERASURE_PURPOSE,
    ADMIN_READ_PURPOSE,
    ERASED_FIELDS,
    PERSONA_FIELDS,
    PERSONA_PURPOSE,
    PROFILE_FIELDS,
    REINSTATE_PURPOSE,
    ROLES_PURPOSE,
    SELF_ERASURE_PURPOSE,
    VERIFY_PURPOSE,
    AccessAction,
    ActorRole,
    acting_role,
)
from services.identity.domain.events import events_between
from services.identity.domain.passwords import Passwords
from services.identity.domain.physician import (
    Physician,
    Role,
    VerificationStatus,
    is_user_id,
    new_user_id,
)
from services.identity.domain.specialties import Specialty, all_specialties
from services.identity.domain.staff import require_live, token_roles
from services.identity.domain.validation import normalize_email, validate_registration
from services.identity.ports import ErasureJournal, IdentityStore, PhysicianRepository
from services.identity.tokens import IssuedToken, TokenIssuer

log = logging.getLogger("consilium.identity")

#: Most ids one batch call may ask for; the gateway pages well below this.
MAX_BATCH = 500

_SIGN_IN_FIRST = "sign in first: this call needs an access token"
_SUSPENDED_ONLY = (
    "your account is suspended: you may only see your own profile or erase your account"
)
#: The purpose of a suspension whose caller gave no reason (the servicer requires one).
SUSPEND_PURPOSE = "suspension"

__all__ = ["MAX_BATCH", "UNRECORDED", "IdentityService", "LoginResult"]


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: IssuedToken
    physician: Physician


def _require_caller(caller: AccessClaims | None) -> AccessClaims:
    if caller is None:
        raise Unauthenticated(_SIGN_IN_FIRST)
    return caller


def _require_active(caller: AccessClaims | None) -> AccessClaims:
    """The caller, unless their token says SUSPENDED (identity issues those for status only)."""
    actor = _require_caller(caller)
    if actor.verification is VerificationStatus.SUSPENDED:
        raise PermissionDenied(_SUSPENDED_ONLY)
    return actor


def _as_staff(caller: AccessClaims, role: Role) -> Actor:
    """`caller` acting as `role` (the role their token claims), decided on their live account."""
    return Actor(caller.user_id, acting_role(caller, preferred=role), live_user=caller.user_id)


def _check_user_id(user_id: str, field: str = "user_id") -> None:
    if not is_user_id(user_id):
        raise InvalidArgument(
            [
                FieldViolation(
                    field,
                    "not a user id; user ids look like usr_ followed by 26 "
                    "lower-case letters and digits",
                )
            ]
        )


def _checked_batch(user_ids: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(user_ids))
    if len(wanted) > MAX_BATCH:
        raise InvalidArgument(
            [FieldViolation("user_ids", f"at most {MAX_BATCH} ids per call; split the batch")]
        )
    for index, user_id in enumerate(wanted):
        _check_user_id(user_id, f"user_ids[{index}]")
    return wanted


class IdentityService:
    """The identity use cases. Callers arrive as verified token claims (or None)."""

    def __init__(
        self,
        store: IdentityStore,
        passwords: Passwords,
        issuer: TokenIssuer,
        erasures: ErasureJournal,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._issuer = issuer
        self._erasures = erasures
        self._clock = clock
        self._units = AuditedUnits(store, clock)

    async def register(
        self,
        *,
        email: str,
        password: str,
        full_name: str,
        npi: str,
        specialty_code: str,
        country: str,
    ) -> Physician:
        """A new PENDING member; INVALID_ARGUMENT names each bad field, ALREADY_EXISTS the taken."""
        registration = validate_registration(
            email=email,
            password=password,
            full_name=full_name,
            npi=npi,
            specialty_code=specialty_code,
            country=country,
        )
        password_hash = self._passwords.hash_password(registration.password)
        physician = Physician.register(registration, user_id=new_user_id(), now=self._clock())
        async with self._store.transaction() as repo:
            taken = await repo.taken_fields(registration.email, registration.npi)
            if taken:
                raise AlreadyExists(
                    "an account with these details already exists",
                    violations=[
                        FieldViolation(f, "is already registered; sign in instead") for f in taken
                    ],
                )
            await repo.add(physician, password_hash)
            await repo.emit(events_between(None, physician))
        log.info("physician registered")
        return physician

    async def login(self, *, email: str, password: str) -> LoginResult:
        """A signed access token; one message for every failure so accounts can't be probed."""
        if not email or not password:
            missing = [f for f, v in (("email", email), ("password", password)) if not v]
            raise InvalidArgument([FieldViolation(f, "is required") for f in missing])
        async with self._store.transaction() as repo:
            found = await repo.find_login(normalize_email(email))
            stored_hash = found[1] if found else None
            check = self._passwords.check_credentials(stored_hash, password)
            assert found is not None  # check_credentials raised otherwise
            physician = found[0]
            if check.needs_rehash:
                await repo.set_password_hash(
                    physician.user_id, self._passwords.hash_password(password)
                )
        # A suspended account signs in to see its status or leave: no staff roles in its token.
        token = self._issuer.issue(
            physician.user_id, token_roles(physician), physician.verification
        )
        return LoginResult(token=token, physician=physician)

    async def get_physician(
        self, caller: AccessClaims | None, user_id: str, *, revealed: RevealGrant | None = None
    ) -> Physician:
        """One profile: the caller's own, anyone's for an ADMIN, or one a reveal granted.

        `revealed` is anonymity's grant, already checked to name this subject and caller: a
        moderator reads exactly the profile an audited reveal just resolved, nothing else.
        Every read of someone else's profile is audited here, granted or denied, and decided
        on the caller's live account (a suspended or demoted one is refused). Reading one's
        own profile is allowed even while suspended: that is how one sees one's status.
        """
        actor = _require_caller(caller)
        _check_user_id(user_id)
        if revealed is not None:
            # The disclosure itself is anonymity's REVEAL_ALIAS record (the one the grant
            # names); reading the profile is identity's own access and is recorded too, so
            # the ledger finds the reveal by the user's id as well as by the alias.
            found = await self._units.read(
                _as_staff(actor, Role.MODERATOR),
                [user_id],
                Access(AccessAction.READ_PROFILE, f"reveal {revealed.record}", PROFILE_FIELDS),
                lambda current: require_live(current, Role.MODERATOR, Role.ADMIN),
            )
        elif user_id == actor.user_id:
            async with self._store.transaction() as repo:
                return await _get(repo, user_id)
        else:
            found = await self._units.read(
                _as_staff(actor, Role.ADMIN),
                [user_id],
                Access(AccessAction.READ_PROFILE, ADMIN_READ_PURPOSE, PROFILE_FIELDS),
                lambda current: require_live(current, Role.ADMIN),
            )
        physician = found.get(user_id)
        if physician is None:
            raise NotFound("no physician with that user id")
        return physician

    async def refuse_reveal_read(
        self,
        caller: AccessClaims,
        user_id: str,
        refusal: PermissionDenied,
        *,
        purpose: str = "reveal (grant refused)",
    ) -> NoReturn:
        """Records a read whose reveal grant did not cover it as DENIED, then raises `refusal`."""
        _check_user_id(user_id)

        def refuse(_current: Physician | None) -> None:
            raise refusal

        await self._units.read(
            Actor(caller.user_id, acting_role(caller, preferred=Role.MODERATOR)),
            [user_id],
            Access(AccessAction.READ_PROFILE, purpose, PROFILE_FIELDS),
            refuse,
        )
        raise refusal  # not reached: the refusal is raised once recorded

    async def batch_get_physicians(
        self, caller: AccessClaims | None, user_ids: Iterable[str]
    ) -> tuple[dict[str, Physician], list[str]]:
        """Profiles by id (ADMIN, or only one's own); also the ids that were not found.

        Each profile other than the caller's own is an audited access: one event per subject.
        """
        actor = _require_caller(caller)
        wanted = _checked_batch(user_ids)
        others = [u for u in wanted if u != actor.user_id]
        if not others:
            # Reading others is decided live and recorded below; this is only one's own.
            _require_active(actor)
            async with self._store.transaction() as repo:
                found = await repo.get_many(wanted)
        else:
            found = await self._units.read(
                _as_staff(actor, Role.ADMIN),
                others,
                Access(AccessAction.READ_PROFILE, ADMIN_READ_PURPOSE, PROFILE_FIELDS),
                lambda current: require_live(current, Role.ADMIN),
                also_read=wanted,
            )
        return found, [u for u in wanted if u not in found]

    async def batch_get_persona_attributes(
        self,
        service: ServicePrincipal | None,
        user_ids: Iterable[str],
        *,
        caller: AccessClaims | None = None,
    ) -> tuple[dict[str, Physician], list[str]]:
        """Physicians by id for anonymity's personas; only the anonymity service may ask.

        `caller`, a user who called without a service credential, only names the actor of the
        refusal's audit event.

        A service-to-service resolution: one audit event per user id asked for (actor the
        service, role SERVICE), so the ledger answers "who read this person" by subject.
        """
        requested = list(user_ids)
        if service is not None:
            actor = Actor(service.name, ActorRole.SERVICE)
        elif caller is not None:
            actor = Actor(caller.user_id, acting_role(caller))
        else:
            actor = Actor("", ActorRole.UNSPECIFIED)
        access = Access(AccessAction.READ_PERSONA_ATTRIBUTES, PERSONA_PURPOSE, PERSONA_FIELDS)

        def permit(_current: Physician | None) -> None:
            require_service(service, "anonymity")

        try:
            permit(None)
        except PermissionDenied:
            # Record the refusal against whatever well-formed ids were asked for.
            subjects = [u for u in dict.fromkeys(requested) if is_user_id(u)][:MAX_BATCH]
            await self._units.read(actor, subjects or [""], access, permit)
        wanted = _checked_batch(requested)
        found = await self._units.read(actor, wanted, access, permit)
        return found, [u for u in wanted if u not in found]

    async def check_actor(self, service: ServicePrincipal | None, user_id: str) -> Physician | None:
        """An actor's account as it is now, for other services' live staff checks.

        Only anonymity and audit may ask. Not recorded: the answer is status and roles, no
        personal data; the staff action it guards is recorded where it happens.
        """
        require_service(service, "anonymity", "audit")
        _check_user_id(user_id)
        async with self._store.transaction() as repo:
            return await repo.get(user_id)

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
        actor = _require_caller(caller)
        _check_user_id(user_id)
        if user_id == actor.user_id:
            by: Actor = Actor(actor.user_id, ActorRole.MEMBER)
            purpose = SELF_ERASURE_PURPOSE

            def permit(current: Physician | None) -> None:
                return None

        else:
            by = _as_staff(actor, Role.ADMIN)
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

    def list_specialties(self) -> tuple[Specialty, ...]:
        return all_specialties()

    async def count_verified_by_specialty(
        self, caller: AccessClaims | None, service: ServicePrincipal | None = None
    ) -> dict[str, int]:
        """Counts only, for k-anonymity decisions; any active signed-in user or known service."""
        if service is None:
            _require_active(caller)
        async with self._store.transaction() as repo:
            return await repo.count_verified_by_specialty()

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
            _check_user_id(user_id)
            actor = Actor(service.name, ActorRole.SERVICE)

            def permit(current: Physician | None) -> None:
                require_service(service, "anonymity")

        else:
            claims = _require_caller(caller)
            _check_user_id(user_id)
            actor = _as_staff(claims, Role.ADMIN)

            def permit(current: Physician | None) -> None:
                require_live(current, Role.ADMIN)
                if user_id == claims.user_id:
                    raise PermissionDenied("admins cannot change their own account status or roles")

        changed = await self._units.change(actor, user_id, access, permit, change)
        log.info("%s by %s", access.action.value.lower(), actor.role.value.lower())
        return changed


async def _get(repo: PhysicianRepository, user_id: str, *, for_update: bool = False) -> Physician:
    physician = await repo.get(user_id, for_update=for_update)
    if physician is None:
        raise NotFound("no physician with that user id")
    return physician
