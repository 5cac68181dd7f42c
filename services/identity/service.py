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
from services.identity.admin import AdminActions
from services.identity.audited import UNRECORDED, Access, Actor, AuditedUnits
from services.identity.checks import (
    MAX_BATCH,
    as_staff,
    check_user_id,
    checked_batch,
    require_active,
    require_caller,
)
from services.identity.domain.access import (
    ADMIN_READ_PURPOSE,
    PERSONA_FIELDS,
    PERSONA_PURPOSE,
    PROFILE_FIELDS,
    AccessAction,
    ActorRole,
    acting_role,
)
from services.identity.domain.events import events_between
from services.identity.domain.passwords import INVALID_CREDENTIALS_MESSAGE, Passwords
from services.identity.domain.physician import (
    Physician,
    Role,
    is_user_id,
    new_user_id,
)
from services.identity.domain.specialties import Specialty, all_specialties
from services.identity.domain.staff import require_live, token_roles
from services.identity.domain.validation import normalize_email, validate_registration
from services.identity.login_guard import LoginGuard
from services.identity.ports import ErasureJournal, IdentityStore, PhysicianRepository
from services.identity.tokens import IssuedToken, TokenIssuer

log = logging.getLogger("consilium.identity")

__all__ = ["MAX_BATCH", "UNRECORDED", "IdentityService", "LoginResult"]


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: IssuedToken
    physician: Physician


class IdentityService(AdminActions):
    """The identity use cases. Callers arrive as verified token claims (or None); the admin
    actions (verify, roles, suspension, erasure) are in services.identity.admin."""

    def __init__(
        self,
        store: IdentityStore,
        passwords: Passwords,
        issuer: TokenIssuer,
        erasures: ErasureJournal,
        *,
        guard: LoginGuard,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._issuer = issuer
        self._erasures = erasures
        self._clock = clock
        self._guard = guard
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

    async def login(self, *, email: str, password: str, client_address: str = "") -> LoginResult:
        """A signed access token; one message for every failure so accounts can't be probed.

        Throttled first (services.identity.login_guard), the same way for unknown emails: while
        the email, or the email from this address, waits, even the right password is refused
        with RATE_LIMITED, and no password is checked.
        """
        if not email or not password:
            missing = [f for f, v in (("email", email), ("password", password)) if not v]
            raise InvalidArgument([FieldViolation(f, "is required") for f in missing])
        normalised = normalize_email(email)
        now = self._clock()
        async with self._store.transaction() as repo:
            admission = await self._guard.admit(
                repo.login_attempts, normalised, client_address, now
            )
            found = await repo.find_login(normalised)
            check = self._passwords.verify_password(found[1] if found else None, password)
            if not check.ok or found is None:
                # Counted in this unit, which must commit: so no raising until it has.
                await self._guard.failed(repo.login_attempts, admission, now)
            else:
                await self._guard.succeeded(repo.login_attempts, admission, now)
                if check.needs_rehash:
                    await repo.set_password_hash(
                        found[0].user_id, self._passwords.hash_password(password)
                    )
        if not check.ok or found is None:
            raise Unauthenticated(INVALID_CREDENTIALS_MESSAGE)
        physician = found[0]
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
        actor = require_caller(caller)
        check_user_id(user_id)
        if revealed is not None:
            # The disclosure itself is anonymity's REVEAL_ALIAS record (the one the grant
            # names); reading the profile is identity's own access and is recorded too, so
            # the ledger finds the reveal by the user's id as well as by the alias.
            found = await self._units.read(
                as_staff(actor, Role.MODERATOR),
                [user_id],
                Access(AccessAction.READ_PROFILE, f"reveal {revealed.record}", PROFILE_FIELDS),
                lambda current: require_live(current, Role.MODERATOR, Role.ADMIN),
            )
        elif user_id == actor.user_id:
            async with self._store.transaction() as repo:
                return await _get(repo, user_id)
        else:
            found = await self._units.read(
                as_staff(actor, Role.ADMIN),
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
        check_user_id(user_id)

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
        actor = require_caller(caller)
        wanted = checked_batch(user_ids)
        others = [u for u in wanted if u != actor.user_id]
        if not others:
            # Reading others is decided live and recorded below; this is only one's own.
            require_active(actor)
            async with self._store.transaction() as repo:
                found = await repo.get_many(wanted)
        else:
            found = await self._units.read(
                as_staff(actor, Role.ADMIN),
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
        wanted = checked_batch(requested)
        found = await self._units.read(actor, wanted, access, permit)
        return found, [u for u in wanted if u not in found]

    async def check_actor(self, service: ServicePrincipal | None, user_id: str) -> Physician | None:
        """An actor's account as it is now, for other services' live staff checks.

        Only anonymity and audit may ask. Not recorded: the answer is status and roles, no
        personal data; the staff action it guards is recorded where it happens.
        """
        require_service(service, "anonymity", "audit")
        check_user_id(user_id)
        async with self._store.transaction() as repo:
            return await repo.get(user_id)

    def list_specialties(self) -> tuple[Specialty, ...]:
        return all_specialties()

    async def count_verified_by_specialty(
        self, caller: AccessClaims | None, service: ServicePrincipal | None = None
    ) -> dict[str, int]:
        """Counts only, for k-anonymity decisions; any active signed-in user or known service."""
        if service is None:
            require_active(caller)
        async with self._store.transaction() as repo:
            return await repo.count_verified_by_specialty()


async def _get(repo: PhysicianRepository, user_id: str, *, for_update: bool = False) -> Physician:
    physician = await repo.get(user_id, for_update=for_update)
    if physician is None:
        raise NotFound("no physician with that user id")
    return physician
