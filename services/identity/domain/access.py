"""Identity accesses: who read whose identity data, why, and whether they were allowed (A1).

An access is recorded in the transaction that performs it (granted) or in one of its own
(denied), and the answer leaves identity only once that transaction has committed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from plumbing.auth.claims import AccessClaims, Role

#: A profile as GetPhysician and BatchGetPhysicians disclose it.
PROFILE_FIELDS = (
    "user_id",
    "email",
    "full_name",
    "npi",
    "specialty",
    "country",
    "verification",
    "roles",
    "created_at",
)
#: What erasure deletes (ErasePhysician's event names them; it discloses nothing).
ERASED_FIELDS = ("email", "full_name", "npi", "specialty", "country", "password_hash", "roles")
#: What BatchGetPersonaAttributes discloses to anonymity.
PERSONA_FIELDS = ("user_id", "full_name", "verification", "specialty_code", "erased")

#: The purpose of an admin's profile read (admins state none over this API).
ADMIN_READ_PURPOSE = "admin profile read"
#: The purpose of anonymity's persona resolution.
PERSONA_PURPOSE = "persona attributes for anonymity"
#: Purposes of the admin changes that take no reason over this API (suspension does).
VERIFY_PURPOSE = "admin verification decision"
ROLES_PURPOSE = "admin role change"
REINSTATE_PURPOSE = "admin reinstatement"
SELF_ERASURE_PURPOSE = "erasure requested by the person"
ADMIN_ERASURE_PURPOSE = "erasure by an admin"


class AccessAction(enum.Enum):
    #: Someone else's profile read (GetPhysician, BatchGetPhysicians).
    READ_PROFILE = "READ_PROFILE"
    #: A service resolved users' persona attributes (BatchGetPersonaAttributes).
    READ_PERSONA_ATTRIBUTES = "READ_PERSONA_ATTRIBUTES"
    #: Admin changes (each also discloses the profile it returns) and erasure.
    VERIFY_PHYSICIAN = "VERIFY_PHYSICIAN"
    SET_ROLES = "SET_ROLES"
    SUSPEND_PHYSICIAN = "SUSPEND_PHYSICIAN"
    REINSTATE_PHYSICIAN = "REINSTATE_PHYSICIAN"
    ERASE_PHYSICIAN = "ERASE_PHYSICIAN"


class AccessDecision(enum.Enum):
    GRANTED = "GRANTED"
    DENIED = "DENIED"


class ActorRole(enum.Enum):
    """The role an actor acted in; SERVICE when a service acts on its own behalf."""

    MEMBER = "MEMBER"
    MODERATOR = "MODERATOR"
    AUDITOR = "AUDITOR"
    ADMIN = "ADMIN"
    SERVICE = "SERVICE"
    UNSPECIFIED = "UNSPECIFIED"


_STRONGEST_FIRST = (
    (Role.ADMIN, ActorRole.ADMIN),
    (Role.MODERATOR, ActorRole.MODERATOR),
    (Role.AUDITOR, ActorRole.AUDITOR),
    (Role.MEMBER, ActorRole.MEMBER),
)


def acting_role(caller: AccessClaims, *, preferred: Role | None = None) -> ActorRole:
    """`preferred` when the caller holds it, else the strongest role they hold."""
    if preferred is not None and preferred in caller.roles:
        return ActorRole(preferred.value)
    for role, actor_role in _STRONGEST_FIRST:
        if role in caller.roles:
            return actor_role
    return ActorRole.UNSPECIFIED


@dataclass(frozen=True, slots=True)
class IdentityAccess:
    """One access to one subject's identity data."""

    occurred_at: datetime
    actor_id: str
    actor_role: ActorRole
    subject_id: str
    action: AccessAction
    #: The identity fields disclosed; empty when denied.
    fields: tuple[str, ...]
    purpose: str
    decision: AccessDecision
    #: Why it was denied; empty when granted.
    denial_reason: str = ""


def accesses(
    subjects: Iterable[str],
    *,
    occurred_at: datetime,
    actor_id: str,
    actor_role: ActorRole,
    action: AccessAction,
    fields: tuple[str, ...],
    purpose: str,
    denial_reason: str = "",
) -> list[IdentityAccess]:
    """One access per subject; denied (and disclosing nothing) when `denial_reason` is set."""
    denied = bool(denial_reason)
    return [
        IdentityAccess(
            occurred_at=occurred_at,
            actor_id=actor_id,
            actor_role=actor_role,
            subject_id=subject,
            action=action,
            fields=() if denied else fields,
            purpose=purpose,
            decision=AccessDecision.DENIED if denied else AccessDecision.GRANTED,
            denial_reason=denial_reason,
        )
        for subject in subjects
    ]
