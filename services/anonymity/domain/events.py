"""Changes anonymity learns from identity, and the alias-level events it tells content.

Identity's physician events arrive here as plain values (the adapter decodes protobuf);
what anonymity announces is per alias only, never per person: content must not learn
which aliases share an owner, and none of these values carries a user id. Only a
moderator acting on one alias produces an alias event (MODERATION); person-level changes
produce none. ACCOUNT_SUSPENDED and AliasOrphaned are kept for events already published
and for consumers' compatibility, and are no longer produced.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from plumbing.auth import VerificationStatus


class SuspensionCause(enum.Enum):
    """Why an alias was suspended: a moderator acted on it, or its owner's account."""

    MODERATION = "MODERATION"
    ACCOUNT_SUSPENDED = "ACCOUNT_SUSPENDED"


@dataclass(frozen=True, slots=True)
class AliasSuspended:
    alias_id: str
    cause: SuspensionCause


@dataclass(frozen=True, slots=True)
class AliasReinstated:
    alias_id: str


@dataclass(frozen=True, slots=True)
class AliasOrphaned:
    alias_id: str


AliasEvent = AliasSuspended | AliasReinstated | AliasOrphaned


@dataclass(frozen=True, slots=True)
class PhysicianRegistered:
    user_id: str
    full_name: str
    specialty_code: str


@dataclass(frozen=True, slots=True)
class PhysicianVerified:
    user_id: str
    specialty_code: str


@dataclass(frozen=True, slots=True)
class PhysicianSpecialtyChanged:
    user_id: str
    specialty_code: str


@dataclass(frozen=True, slots=True)
class PhysicianSuspended:
    user_id: str


@dataclass(frozen=True, slots=True)
class PhysicianReinstated:
    user_id: str
    verification: VerificationStatus


@dataclass(frozen=True, slots=True)
class PhysicianErased:
    user_id: str


PhysicianChange = (
    PhysicianRegistered
    | PhysicianVerified
    | PhysicianSpecialtyChanged
    | PhysicianSuspended
    | PhysicianReinstated
    | PhysicianErased
)
