"""The Physician account: verification lifecycle, roles, erasure and role checks."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from plumbing.auth.claims import Role, VerificationStatus
from plumbing.errors import FailedPrecondition, PermissionDenied
from services.identity.domain.validation import Registration

__all__ = [
    "USER_ID_PREFIX",
    "Physician",
    "Role",
    "VerificationStatus",
    "is_user_id",
    "new_user_id",
    "require_role",
]

USER_ID_PREFIX = "usr_"
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_USER_ID_CHARS = 26  # 26 base32 characters carry 130 random bits
_USER_ID_PATTERN = re.compile(rf"^{USER_ID_PREFIX}[a-z2-7]{{{_USER_ID_CHARS}}}$")


_SUSPENDABLE = frozenset({VerificationStatus.PENDING, VerificationStatus.VERIFIED})


@dataclass(frozen=True, slots=True)
class Physician:
    """A registered physician. Every change returns a new instance; nothing mutates.

    The password hash is deliberately not part of the entity: it lives beside it in storage,
    so no code path that renders a Physician can leak it.

    Lifecycle (`verification`):

    - PENDING -> VERIFIED or REJECTED by `verify(approve=...)`.
    - REJECTED -> VERIFIED by `verify(approve=True)`: an admin may overturn a rejection
      after the physician corrects a typo or the registry catches up. REJECTED -> REJECTED
      is refused, so a second rejection is visible as the no-op it would be.
    - PENDING or VERIFIED -> SUSPENDED by `suspend()`, remembering the earlier status in
      `suspended_from`; `reinstate()` restores exactly that status.
    - An erased physician accepts no change but a repeated `erase()`.
    """

    user_id: str
    email: str
    full_name: str
    npi: str
    specialty_code: str
    country: str
    verification: VerificationStatus
    roles: frozenset[Role]
    created_at: datetime
    erased: bool = False
    suspended_from: VerificationStatus | None = None

    def __post_init__(self) -> None:
        # Broken invariants mean corrupt storage or a bug, never bad user input.
        if Role.MEMBER not in self.roles:
            raise ValueError("a physician always holds the MEMBER role")
        if (self.verification is VerificationStatus.SUSPENDED) != (self.suspended_from is not None):
            raise ValueError("suspended_from is set exactly when the physician is suspended")
        if self.suspended_from is not None and self.suspended_from not in _SUSPENDABLE:
            raise ValueError("only a PENDING or VERIFIED physician can have been suspended")
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")

    @classmethod
    def register(cls, registration: Registration, *, user_id: str, now: datetime) -> Physician:
        """A new PENDING member from a validated registration."""
        return cls(
            user_id=user_id,
            email=registration.email,
            full_name=registration.full_name,
            npi=registration.npi,
            specialty_code=registration.specialty_code,
            country=registration.country,
            verification=VerificationStatus.PENDING,
            roles=frozenset({Role.MEMBER}),
            created_at=now,
        )

    @property
    def is_verified(self) -> bool:
        """Whether the physician may post, comment, react and vote."""
        return self.verification is VerificationStatus.VERIFIED and not self.erased

    def verify(self, *, approve: bool) -> Physician:
        """Record the outcome of the NPI check: VERIFIED if `approve`, else REJECTED."""
        self._require_not_erased("verify")
        status = self.verification
        if status is VerificationStatus.PENDING or (
            status is VerificationStatus.REJECTED and approve
        ):
            target = VerificationStatus.VERIFIED if approve else VerificationStatus.REJECTED
            return replace(self, verification=target)
        if status is VerificationStatus.SUSPENDED:
            raise FailedPrecondition(
                "cannot verify: the physician is suspended; reinstate them first"
            )
        raise FailedPrecondition(
            f"cannot {'approve' if approve else 'reject'}: the physician is already "
            f"{status.value.lower()}; only a pending (or rejected, to approve) physician "
            "can be verified"
        )

    def suspend(self) -> Physician:
        """Suspend a PENDING or VERIFIED physician; `reinstate` undoes it."""
        self._require_not_erased("suspend")
        if self.verification not in _SUSPENDABLE:
            raise FailedPrecondition(
                f"cannot suspend: the physician is {self.verification.value.lower()}; "
                "only a pending or verified physician can be suspended"
            )
        return replace(
            self, verification=VerificationStatus.SUSPENDED, suspended_from=self.verification
        )

    def reinstate(self) -> Physician:
        """Lift a suspension, restoring the status the physician had before it."""
        self._require_not_erased("reinstate")
        if self.suspended_from is None:
            raise FailedPrecondition(
                f"cannot reinstate: the physician is {self.verification.value.lower()}, "
                "not suspended"
            )
        return replace(self, verification=self.suspended_from, suspended_from=None)

    def with_roles(self, roles: Iterable[Role]) -> Physician:
        """The physician holding exactly `roles`, plus MEMBER, which every account holds."""
        self._require_not_erased("change roles of")
        return replace(self, roles=frozenset(roles) | {Role.MEMBER})

    def erase(self) -> Physician:
        """Forget the person: personal fields become empty tombstones, roles drop to MEMBER.

        The user id, creation time and verification status remain so audit records that
        cite the id still resolve to "an erased account". Specialty and country go too: with
        an id they are personal data. Erasing twice returns the same tombstone, so a retried
        erasure request succeeds.
        """
        if self.erased:
            return self
        return replace(
            self,
            email="",
            full_name="",
            npi="",
            specialty_code="",
            country="",
            roles=frozenset({Role.MEMBER}),
            erased=True,
        )

    def _require_not_erased(self, action: str) -> None:
        if self.erased:
            raise FailedPrecondition(f"cannot {action} the physician: the account was erased")


def require_role(actor_roles: Iterable[Role], *allowed: Role) -> None:
    """Raise PermissionDenied unless the actor holds at least one of the `allowed` roles."""
    if not allowed:
        raise ValueError("require_role needs at least one allowed role")
    if frozenset(actor_roles) & frozenset(allowed):
        return
    names = " or ".join(role.value for role in allowed)
    raise PermissionDenied(f"permission denied: this action needs the {names} role")


def new_user_id() -> str:
    """A fresh, unguessable user id: `usr_` + 26 lower-case base32 characters (130 bits)."""
    bits = secrets.randbits(5 * _USER_ID_CHARS)
    chars = [_BASE32[(bits >> (5 * i)) & 31] for i in range(_USER_ID_CHARS)]
    return USER_ID_PREFIX + "".join(chars)


def is_user_id(value: str) -> bool:
    """Whether `value` has the form of an id `new_user_id` makes (not whether it exists)."""
    return _USER_ID_PATTERN.fullmatch(value) is not None
