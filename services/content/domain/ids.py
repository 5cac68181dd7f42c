"""Ids this service mints (posts, comments) and the shape of the alias ids it is given."""

from __future__ import annotations

import re
import secrets

from plumbing.errors import FieldViolation

_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_RANDOM_CHARS = 26  # 130 bits: unguessable, so ids leak neither order nor volume
POST_PREFIX = "pst_"
COMMENT_PREFIX = "cmt_"
#: Opaque ids from anonymity (aliases, thread scopes): short, URL-safe, no spaces or '@'.
_OPAQUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: Identity's user ids; content must never hold one (invariant P1), so they are refused.
_USER_ID_PREFIX = "usr_"


def _random_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_BASE32) for _ in range(_RANDOM_CHARS))


def new_post_id() -> str:
    return _random_id(POST_PREFIX)


def new_comment_id() -> str:
    return _random_id(COMMENT_PREFIX)


def opaque_id_violation(value: str, field: str, what: str = "an alias id") -> FieldViolation | None:
    """Why `value` cannot be an opaque id from anonymity, or None when it can."""
    if not value:
        return FieldViolation(field, f"is required: {what} from the anonymity service")
    if value.lower().startswith(_USER_ID_PREFIX):
        # Defence in depth for P1: a caller passing a user id here is a bug to stop loudly.
        return FieldViolation(field, f"must be {what}, never a user id")
    if _OPAQUE_ID.fullmatch(value) is None:
        return FieldViolation(
            field, f"is not {what}: 1 to 64 letters, digits, '_' or '-', starting alphanumeric"
        )
    return None


def id_violation(value: str, field: str, prefix: str, what: str) -> FieldViolation | None:
    """Why `value` cannot be one of our ids (posts, comments), or None when it can."""
    if not value:
        return FieldViolation(field, f"is required: {what}")
    if not value.startswith(prefix) or len(value) > 64:
        return FieldViolation(field, f"is not {what}; they start with {prefix}")
    return None
