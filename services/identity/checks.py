"""Who is asking, and is the id well formed: the checks every identity use case starts with."""

from __future__ import annotations

from collections.abc import Iterable

from plumbing.auth.claims import AccessClaims
from plumbing.errors import FieldViolation, InvalidArgument, PermissionDenied, Unauthenticated
from services.identity.audited import Actor
from services.identity.domain.access import acting_role
from services.identity.domain.physician import Role, VerificationStatus, is_user_id

#: Most ids one batch call may ask for; the gateway pages well below this.
MAX_BATCH = 500

_SIGN_IN_FIRST = "sign in first: this call needs an access token"
_SUSPENDED_ONLY = (
    "your account is suspended: you may only see your own profile or erase your account"
)


def require_caller(caller: AccessClaims | None) -> AccessClaims:
    if caller is None:
        raise Unauthenticated(_SIGN_IN_FIRST)
    return caller


def require_active(caller: AccessClaims | None) -> AccessClaims:
    """The caller, unless their token says SUSPENDED (identity issues those for status only)."""
    actor = require_caller(caller)
    if actor.verification is VerificationStatus.SUSPENDED:
        raise PermissionDenied(_SUSPENDED_ONLY)
    return actor


def as_staff(caller: AccessClaims, role: Role) -> Actor:
    """`caller` acting as `role` (the role their token claims), decided on their live account."""
    return Actor(caller.user_id, acting_role(caller, preferred=role), live_user=caller.user_id)


def check_user_id(user_id: str, field: str = "user_id") -> None:
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


def checked_batch(user_ids: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(user_ids))
    if len(wanted) > MAX_BATCH:
        raise InvalidArgument(
            [FieldViolation("user_ids", f"at most {MAX_BATCH} ids per call; split the batch")]
        )
    for index, user_id in enumerate(wanted):
        check_user_id(user_id, f"user_ids[{index}]")
    return wanted
