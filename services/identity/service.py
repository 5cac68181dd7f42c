"""Identity use cases: registration, sign-in, verification, roles, suspension, erasure."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

from plumbing.auth.claims import AccessClaims
from plumbing.auth.service import RevealGrant, ServicePrincipal, require_service
from plumbing.errors import (
    AlreadyExists,
    DomainError,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from services.identity.domain.access import (
    ADMIN_READ_PURPOSE,
    PERSONA_FIELDS,
    PERSONA_PURPOSE,
    PROFILE_FIELDS,
    AccessAction,
    ActorRole,
    IdentityAccess,
    accesses,
    acting_role,
)
from services.identity.domain.events import events_between
from services.identity.domain.passwords import Passwords
from services.identity.domain.physician import (
    Physician,
    Role,
    is_user_id,
    new_user_id,
    require_role,
)
from services.identity.domain.specialties import Specialty, all_specialties
from services.identity.domain.validation import normalize_email, validate_registration
from services.identity.ports import ErasureJournal, IdentityStore, PhysicianRepository
from services.identity.tokens import IssuedToken, TokenIssuer

log = logging.getLogger("consilium.identity")

#: Most ids one batch call may ask for; the gateway pages well below this.
MAX_BATCH = 500

_SIGN_IN_FIRST = "sign in first: this call needs an access token"

UNRECORDED = (
    "the identity access could not be recorded, so nothing was disclosed; try again shortly"
)


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: IssuedToken
    physician: Physician


def _require_caller(caller: AccessClaims | None) -> AccessClaims:
    if caller is None:
        raise Unauthenticated(_SIGN_IN_FIRST)
    return caller


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
        token = self._issuer.issue(physician.user_id, physician.roles, physician.verification)
        return LoginResult(token=token, physician=physician)

    async def get_physician(
        self, caller: AccessClaims | None, user_id: str, *, revealed: RevealGrant | None = None
    ) -> Physician:
        """One profile: the caller's own, anyone's for an ADMIN, or one a reveal granted.

        `revealed` is anonymity's grant, already checked to name this subject and caller: a
        moderator reads exactly the profile an audited reveal just resolved, nothing else.
        Every read of someone else's profile is audited here, granted or denied.
        """
        actor = _require_caller(caller)
        _check_user_id(user_id)
        if revealed is not None:
            # The disclosure itself is anonymity's REVEAL_ALIAS record (the one the grant
            # names); reading the profile is identity's own access and is recorded too, so
            # the ledger finds the reveal by the user's id as well as by the alias.
            found = await self._audited_read(
                actor.user_id,
                acting_role(actor, preferred=Role.MODERATOR),
                [user_id],
                permit=lambda: require_role(actor.roles, Role.MODERATOR, Role.ADMIN),
                action=AccessAction.READ_PROFILE,
                fields=PROFILE_FIELDS,
                purpose=f"reveal {revealed.record}",
            )
            revealed_physician = found.get(user_id)
            if revealed_physician is None:
                raise NotFound("no physician with that user id")
            return revealed_physician
        if user_id == actor.user_id:
            async with self._store.transaction() as repo:
                return await _get(repo, user_id)
        found = await self._audited_read(
            actor.user_id,
            acting_role(actor, preferred=Role.ADMIN),
            [user_id],
            permit=lambda: require_role(actor.roles, Role.ADMIN),
            action=AccessAction.READ_PROFILE,
            fields=PROFILE_FIELDS,
            purpose=ADMIN_READ_PURPOSE,
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

        def refuse() -> None:
            raise refusal

        await self._audited_read(
            caller.user_id,
            acting_role(caller, preferred=Role.MODERATOR),
            [user_id],
            permit=refuse,
            action=AccessAction.READ_PROFILE,
            fields=PROFILE_FIELDS,
            purpose=purpose,
        )
        raise refusal  # not reached: `refuse` raised inside `_audited_read`

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
            async with self._store.transaction() as repo:
                found = await repo.get_many(wanted)
        else:
            found = await self._audited_read(
                actor.user_id,
                acting_role(actor, preferred=Role.ADMIN),
                others,
                permit=lambda: require_role(actor.roles, Role.ADMIN),
                action=AccessAction.READ_PROFILE,
                fields=PROFILE_FIELDS,
                purpose=ADMIN_READ_PURPOSE,
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
            actor_id, role = service.name, ActorRole.SERVICE
        elif caller is not None:
            actor_id, role = caller.user_id, acting_role(caller)
        else:
            actor_id, role = "", ActorRole.UNSPECIFIED

        def permit() -> None:
            require_service(service, "anonymity")

        try:
            permit()
        except PermissionDenied:
            # Record the refusal against whatever well-formed ids were asked for.
            subjects = [u for u in dict.fromkeys(requested) if is_user_id(u)][:MAX_BATCH]
            await self._audited_read(
                actor_id,
                role,
                subjects or [""],
                permit=permit,
                action=AccessAction.READ_PERSONA_ATTRIBUTES,
                fields=PERSONA_FIELDS,
                purpose=PERSONA_PURPOSE,
            )
        wanted = _checked_batch(requested)
        found = await self._audited_read(
            actor_id,
            role,
            wanted,
            permit=permit,
            action=AccessAction.READ_PERSONA_ATTRIBUTES,
            fields=PERSONA_FIELDS,
            purpose=PERSONA_PURPOSE,
        )
        return found, [u for u in wanted if u not in found]

    async def verify(
        self, caller: AccessClaims | None, user_id: str, *, approve: bool
    ) -> Physician:
        return await self._change(
            caller, user_id, lambda p: p.verify(approve=approve), "verification decided"
        )

    async def set_roles(
        self, caller: AccessClaims | None, user_id: str, roles: Iterable[Role]
    ) -> Physician:
        wanted = frozenset(roles)
        return await self._change(caller, user_id, lambda p: p.with_roles(wanted), "roles set")

    async def suspend(
        self,
        caller: AccessClaims | None,
        user_id: str,
        *,
        service: ServicePrincipal | None = None,
    ) -> Physician:
        """By an ADMIN, or by anonymity when a moderator suspends the person behind an alias."""
        return await self._change(
            caller, user_id, lambda p: p.suspend(), "physician suspended", service=service
        )

    async def reinstate(
        self,
        caller: AccessClaims | None,
        user_id: str,
        *,
        service: ServicePrincipal | None = None,
    ) -> Physician:
        """Lifts a suspension; by an ADMIN or by anonymity, as for `suspend`."""
        return await self._change(
            caller, user_id, lambda p: p.reinstate(), "physician reinstated", service=service
        )

    async def erase(self, caller: AccessClaims | None, user_id: str) -> Physician:
        """Right to be forgotten: by the person themself or by an ADMIN.

        The erasure journal is written before the transaction commits, so a database
        restored from an older backup is erased again at the next start (`replay_erasures`).
        """
        actor = _require_caller(caller)
        _check_user_id(user_id)
        if user_id != actor.user_id:
            require_role(actor.roles, Role.ADMIN)
        async with self._store.transaction() as repo:
            physician = await _get(repo, user_id, for_update=True)
            erased = physician.erase()
            await self._erasures.record(user_id)
            await repo.save(erased)
            await repo.emit(events_between(physician, erased))
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
        """Counts only, for k-anonymity decisions; any signed-in user or known service."""
        if service is None:
            _require_caller(caller)
        async with self._store.transaction() as repo:
            return await repo.count_verified_by_specialty()

    async def _audited_read(
        self,
        actor_id: str,
        role: ActorRole,
        subjects: list[str],
        *,
        permit: Callable[[], None],
        action: AccessAction,
        fields: tuple[str, ...],
        purpose: str,
        also_read: list[str] | None = None,
    ) -> dict[str, Physician]:
        """Reads `subjects` (and `also_read`) if `permit()` allows, recording every access.

        Granted: the events are chained and queued first in the transaction of the read, which
        commits before anything is returned. Denied: the refusal is recorded in a transaction
        of its own, then PermissionDenied is raised. Fail closed: if the record cannot be
        written, the call fails with UNAVAILABLE and discloses nothing.
        """

        def recorded(denial_reason: str = "") -> list[IdentityAccess]:
            return accesses(
                subjects,
                occurred_at=self._clock(),
                actor_id=actor_id,
                actor_role=role,
                action=action,
                fields=fields,
                purpose=purpose,
                denial_reason=denial_reason,
            )

        try:
            permit()
        except PermissionDenied as denied:
            await self._fail_closed(self._record_only(recorded(f"PERMISSION_DENIED: {denied}")))
            raise
        return await self._fail_closed(self._read_recorded(recorded(), also_read or subjects))

    async def _record_only(self, records: list[IdentityAccess]) -> dict[str, Physician]:
        async with self._store.transaction() as repo:
            await repo.record_accesses(records)
        return {}

    async def _read_recorded(
        self, records: list[IdentityAccess], user_ids: list[str]
    ) -> dict[str, Physician]:
        async with self._store.transaction() as repo:
            await repo.record_accesses(records)  # first: takes the chain lock
            return await repo.get_many(user_ids)

    @staticmethod
    async def _fail_closed(
        work: Coroutine[Any, Any, dict[str, Physician]],
    ) -> dict[str, Physician]:
        try:
            return await work
        except DomainError:
            raise
        except Exception as exc:
            # Type only: driver messages quote statement parameters (user ids).
            log.error("identity access not recorded (%s)", type(exc).__name__)
            raise Unavailable(UNRECORDED) from None

    async def _change(
        self,
        caller: AccessClaims | None,
        user_id: str,
        change: Callable[[Physician], Physician],
        what: str,
        *,
        service: ServicePrincipal | None = None,
    ) -> Physician:
        """An account change by an ADMIN or, where the caller passes `service`, by anonymity.

        A service credential, when presented, is what authorises the call: anonymity acts on
        behalf of a moderator it has already checked and audited.
        """
        if service is not None:
            require_service(service, "anonymity")
            _check_user_id(user_id)
            by = f" by service {service.name}"
        else:
            actor = _require_caller(caller)
            require_role(actor.roles, Role.ADMIN)
            _check_user_id(user_id)
            if user_id == actor.user_id:
                raise PermissionDenied("admins cannot change their own account status or roles")
            by = ""
        async with self._store.transaction() as repo:
            physician = await _get(repo, user_id, for_update=True)
            changed = change(physician)
            await repo.save(changed)
            await repo.emit(events_between(physician, changed))
        log.info("%s%s", what, by)
        return changed


async def _get(repo: PhysicianRepository, user_id: str, *, for_update: bool = False) -> Physician:
    physician = await repo.get(user_id, for_update=for_update)
    if physician is None:
        raise NotFound("no physician with that user id")
    return physician
