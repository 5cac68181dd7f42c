"""Live staff powers and how an admin change is described in its audit event.

A token's roles and status may be as old as the token; every staff action is decided on the
actor's account as identity holds it now, so a suspended or demoted admin is refused at once.
"""

from __future__ import annotations

from plumbing.auth.claims import Role, VerificationStatus
from plumbing.errors import PermissionDenied
from services.identity.domain.physician import Physician, require_role

__all__ = ["change_fields", "require_live", "token_roles"]

_GONE = "permission denied: your account no longer exists"
_SUSPENDED = "permission denied: your account is suspended; staff powers are withdrawn"


def require_live(current: Physician | None, *allowed: Role) -> None:
    """PermissionDenied unless the actor's account exists, is active and holds `allowed` now."""
    if current is None or current.erased:
        raise PermissionDenied(_GONE)
    if current.verification is VerificationStatus.SUSPENDED:
        raise PermissionDenied(_SUSPENDED)
    require_role(current.roles, *allowed)


def token_roles(physician: Physician) -> frozenset[Role]:
    """The roles a new token carries: none beyond MEMBER while the account is suspended.

    A suspended account may still sign in, to see its status or erase itself; its token must
    not carry the staff powers it lost.
    """
    if physician.verification is VerificationStatus.SUSPENDED:
        return frozenset({Role.MEMBER})
    return physician.roles


def change_fields(before: Physician, after: Physician) -> tuple[str, ...]:
    """`"<field>: <before> -> <after>"` for each of verification and roles that changed.

    Statuses and roles are no personal data, so their values are named; personal fields
    never appear here (an erasure names the fields it deleted instead).
    """
    changed: list[str] = []
    if before.verification is not after.verification:
        changed.append(f"verification: {before.verification.value} -> {after.verification.value}")
    if before.roles != after.roles:
        changed.append(f"roles: {_roles(before.roles)} -> {_roles(after.roles)}")
    return tuple(changed)


def _roles(roles: frozenset[Role]) -> str:
    return ",".join(sorted(role.value for role in roles))
