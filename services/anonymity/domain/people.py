"""Anonymity's own copy of what personas need about a person, kept current from identity.

The record is folded from identity's events (one person's events arrive in order), and
every change says how the verified-per-specialty counts move, so k-anonymity is decided
from anonymity's own store without asking identity on every describe.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from plumbing.auth import VerificationStatus
from services.anonymity.domain.events import (
    PhysicianChange,
    PhysicianErased,
    PhysicianRegistered,
    PhysicianReinstated,
    PhysicianSpecialtyChanged,
    PhysicianSuspended,
    PhysicianVerified,
)

_RESTORABLE = (VerificationStatus.PENDING, VerificationStatus.VERIFIED)


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """Verification, specialty and (if identity told us) the full name of one person.

    `full_name` is None when the first event seen was not `PhysicianRegistered` (people who
    registered before identity published events): the name is then asked of identity.
    """

    verification: VerificationStatus
    specialty_code: str
    full_name: str | None

    @property
    def counted_in(self) -> str | None:
        """The specialty this person counts towards for k-anonymity, if any."""
        if self.verification is VerificationStatus.VERIFIED and self.specialty_code:
            return self.specialty_code
        return None


def apply_change(current: PersonRecord | None, change: PhysicianChange) -> PersonRecord | None:
    """The record after `change`; None once the person is erased."""
    base = current or PersonRecord(VerificationStatus.PENDING, "", None)
    match change:
        case PhysicianRegistered(_, full_name, specialty_code):
            return replace(base, specialty_code=specialty_code, full_name=full_name)
        case PhysicianVerified(_, specialty_code):
            return replace(
                base,
                verification=VerificationStatus.VERIFIED,
                specialty_code=specialty_code or base.specialty_code,
            )
        case PhysicianSpecialtyChanged(_, specialty_code):
            return replace(base, specialty_code=specialty_code)
        case PhysicianSuspended():
            return replace(base, verification=VerificationStatus.SUSPENDED)
        case PhysicianReinstated(_, verification):
            restored = verification if verification in _RESTORABLE else VerificationStatus.PENDING
            return replace(base, verification=restored)
        case PhysicianErased():
            return None


def count_deltas(before: PersonRecord | None, after: PersonRecord | None) -> dict[str, int]:
    """How the verified-per-specialty counts change from `before` to `after` (no zeros)."""
    deltas: dict[str, int] = {}
    if before is not None and before.counted_in:
        deltas[before.counted_in] = deltas.get(before.counted_in, 0) - 1
    if after is not None and after.counted_in:
        deltas[after.counted_in] = deltas.get(after.counted_in, 0) + 1
    return {code: delta for code, delta in deltas.items() if delta}


@dataclass(frozen=True, slots=True)
class StoredPerson:
    """A person record as stored: verification and specialty sealed under the master key
    (bound to the blind index), the name under the person's own data key, so deleting
    the data key on erasure shreds the name with the mapping."""

    owner_index: str
    kid: str
    sealed: bytes
    name_ciphertext: bytes | None
