"""The access-token contract shared by every service: roles, statuses, claims, JWT fields."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from plumbing.errors import Unauthenticated

__all__ = [
    "AUDIENCE",
    "DEFAULT_TTL",
    "ISSUER",
    "REQUIRED_CLAIMS",
    "AccessClaims",
    "Role",
    "VerificationStatus",
    "claims_from_payload",
    "new_claims",
]


class VerificationStatus(enum.Enum):
    """Where a physician stands with the NPI check an admin performs."""

    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"
    SUSPENDED = "SUSPENDED"


class Role(enum.Enum):
    """What a member may do beyond reading and (once verified) posting."""

    MEMBER = "MEMBER"
    MODERATOR = "MODERATOR"
    AUDITOR = "AUDITOR"
    ADMIN = "ADMIN"


ISSUER = "consilium-identity"
AUDIENCE = "consilium"
DEFAULT_TTL = timedelta(minutes=15)
#: Registered claims every token must carry (PyJWT checks presence, we check types).
REQUIRED_CLAIMS: tuple[str, ...] = ("iss", "aud", "sub", "iat", "exp")

_INVALID = "token claims invalid; sign in again"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a valid access token says about its bearer.

    Deliberately no personal data beyond the opaque user id: tokens travel in headers,
    browser storage and (truncated) logs. `key_id` names the key that signed it.
    """

    user_id: str
    roles: frozenset[Role]
    verification: VerificationStatus
    issued_at: datetime
    expires_at: datetime
    key_id: str

    def __post_init__(self) -> None:
        if not self.user_id:
            raise ValueError("access claims need a subject")
        if self.issued_at.tzinfo is None or self.expires_at.tzinfo is None:
            raise ValueError("access claim times must be timezone-aware")

    def has_role(self, *roles: Role) -> bool:
        """Whether the bearer holds at least one of `roles`."""
        return not self.roles.isdisjoint(roles)

    def to_payload(self) -> dict[str, Any]:
        """The JWT claims set: iss, aud, sub, roles, ver, iat and exp (whole seconds)."""
        return {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": self.user_id,
            "roles": sorted(role.value for role in self.roles),
            "ver": self.verification.value,
            "iat": int(self.issued_at.timestamp()),
            "exp": int(self.expires_at.timestamp()),
        }


def new_claims(
    *,
    user_id: str,
    roles: Iterable[Role],
    verification: VerificationStatus,
    now: datetime,
    ttl: timedelta,
    key_id: str,
) -> AccessClaims:
    """Claims for a token issued `now` (truncated to the second) that lives for `ttl`."""
    if ttl < timedelta(seconds=1):
        raise ValueError("token lifetime must be at least one second")
    if now.tzinfo is None:
        raise ValueError("the clock must return timezone-aware datetimes")
    issued = int(now.timestamp())
    expires = issued + int(ttl.total_seconds())
    return AccessClaims(
        user_id=user_id,
        roles=frozenset(roles),
        verification=verification,
        issued_at=datetime.fromtimestamp(issued, UTC),
        expires_at=datetime.fromtimestamp(expires, UTC),
        key_id=key_id,
    )


def claims_from_payload(payload: Mapping[str, Any], *, key_id: str) -> AccessClaims:
    """Typed claims from a signature-checked payload; Unauthenticated if any is malformed.

    Issuer and audience are the decoder's job; this checks the types and vocabularies of
    sub, roles, ver, iat and exp. An unknown role or status is refused rather than dropped,
    so a token from a newer issuer never silently loses a restriction.
    """
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated(_INVALID)
    values = payload.get("roles")
    if not isinstance(values, list):
        raise Unauthenticated(_INVALID)
    try:
        roles = frozenset(Role(value) for value in values)
        verification = VerificationStatus(payload.get("ver"))
    except ValueError as exc:
        raise Unauthenticated(_INVALID) from exc
    return AccessClaims(
        user_id=subject,
        roles=roles,
        verification=verification,
        issued_at=_timestamp(payload, "iat"),
        expires_at=_timestamp(payload, "exp"),
        key_id=key_id,
    )


def _timestamp(payload: Mapping[str, Any], name: str) -> datetime:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unauthenticated(_INVALID)
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise Unauthenticated(_INVALID) from exc
