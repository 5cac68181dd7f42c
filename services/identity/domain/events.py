"""What identity tells other services about a physician, derived from a change of state.

These are plain facts; adapters turn them into protobuf payloads on `identity.physicians.v1`.
They carry only what anonymity needs for personas, and nothing that names the person: never
a name, email, NPI or country. Events outlive erasure (on the topic for its retention), so a
name in one would tie the user id to the person after they were forgotten; anonymity asks
identity for the name (BatchGetPersonaAttributes) when it makes an IDENTIFIED alias.

A rejection publishes nothing: a PENDING and a REJECTED physician look the same to anonymity
(no badge, specialty not counted), so there is nothing for it to change. A role change
publishes nothing either: roles matter only to identity's own tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.identity.domain.physician import Physician, VerificationStatus


@dataclass(frozen=True, slots=True)
class PhysicianRegistered:
    """A new account (PENDING, or VERIFIED when seeded) and its specialty; never its name."""

    user_id: str
    specialty_code: str


@dataclass(frozen=True, slots=True)
class PhysicianVerified:
    """Approved: personas get the badge and the specialty counts towards k-anonymity."""

    user_id: str
    specialty_code: str


@dataclass(frozen=True, slots=True)
class PhysicianSuspended:
    """Suspended (by an admin, or by anonymity on a moderator's behalf)."""

    user_id: str


@dataclass(frozen=True, slots=True)
class PhysicianReinstated:
    """A suspension lifted; `verification` is the status restored (PENDING or VERIFIED)."""

    user_id: str
    verification: VerificationStatus


@dataclass(frozen=True, slots=True)
class PhysicianErased:
    """The person was forgotten: anonymity crypto-shreds their alias mapping."""

    user_id: str


PhysicianEvent = (
    PhysicianRegistered
    | PhysicianVerified
    | PhysicianSuspended
    | PhysicianReinstated
    | PhysicianErased
)


def events_between(before: Physician | None, after: Physician) -> list[PhysicianEvent]:
    """The events that the change from `before` (None for a new account) to `after` publishes."""
    user_id = after.user_id
    if before is None:
        events: list[PhysicianEvent] = [PhysicianRegistered(user_id, after.specialty_code)]
        if after.verification is VerificationStatus.VERIFIED:
            events.append(PhysicianVerified(user_id, after.specialty_code))
        return events
    if after.erased:
        return [] if before.erased else [PhysicianErased(user_id)]
    if before.verification is after.verification:
        return []
    if after.verification is VerificationStatus.SUSPENDED:
        return [PhysicianSuspended(user_id)]
    if before.verification is VerificationStatus.SUSPENDED:
        return [PhysicianReinstated(user_id, after.verification)]
    if after.verification is VerificationStatus.VERIFIED:
        return [PhysicianVerified(user_id, after.specialty_code)]
    return []
