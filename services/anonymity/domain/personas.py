"""Personas: the public face of an alias, frozen when the alias is made (P2, P5).

A persona shows a verified-physician badge, the specialty only when at least K verified
members share it, and the name only for IDENTIFIED aliases. Its handle is built from a
keyed HMAC of the alias id (never the name): "Anonymous Cardiologist 4821".

All of it is decided once, by `freeze`, when the alias is made (K is checked then), and
`describe` reads only what was frozen. So nothing that happens to the person later (a
suspension, a reinstatement, a specialty or verification change, another member moving
the count across K) changes the face of any alias: an observer diffing personas before
and after cannot group one person's aliases. Erasure shreds the IDENTIFIED alias's
display name (sealed under the person's data key) and nothing else visible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from plumbing.auth import VerificationStatus
from services.anonymity.domain.aliases import AliasState, FrozenPersona, StoredAlias, Visibility

DEFAULT_K = 11

# People-nouns for specialty handles; codes missing here read "<name> Physician".
_NOUNS: dict[str, str] = {
    "207K00000X": "Allergist",
    "207L00000X": "Anesthesiologist",
    "207N00000X": "Dermatologist",
    "207P00000X": "Emergency Physician",
    "207Q00000X": "Family Physician",
    "208D00000X": "General Practitioner",
    "208M00000X": "Hospitalist",
    "207R00000X": "Internist",
    "207RC0000X": "Cardiologist",
    "207RC0001X": "Electrophysiologist",
    "207RC0200X": "Intensivist",
    "207RE0101X": "Endocrinologist",
    "207RG0100X": "Gastroenterologist",
    "207RG0300X": "Geriatrician",
    "207RH0003X": "Hematologist-Oncologist",
    "207RI0008X": "Hepatologist",
    "207RI0200X": "Infectious Disease Physician",
    "207RI0011X": "Interventional Cardiologist",
    "207RX0202X": "Oncologist",
    "207RN0300X": "Nephrologist",
    "207RP1001X": "Pulmonologist",
    "207RR0500X": "Rheumatologist",
    "207SG0201X": "Geneticist",
    "207T00000X": "Neurosurgeon",
    "207V00000X": "Obstetrician-Gynecologist",
    "207W00000X": "Ophthalmologist",
    "207X00000X": "Orthopaedic Surgeon",
    "207Y00000X": "Otolaryngologist",
    "207ZP0102X": "Pathologist",
    "208000000X": "Pediatrician",
    "2080N0001X": "Neonatologist",
    "2080P0202X": "Pediatric Cardiologist",
    "208200000X": "Plastic Surgeon",
    "2084N0400X": "Neurologist",
    "2084P0800X": "Psychiatrist",
    "2085R0202X": "Radiologist",
    "2085R0001X": "Radiation Oncologist",
    "208600000X": "Surgeon",
    "2086S0129X": "Vascular Surgeon",
    "208G00000X": "Cardiothoracic Surgeon",
    "208800000X": "Urologist",
}


@dataclass(frozen=True, slots=True)
class PersonaAttributes:
    """What identity tells anonymity about an alias's owner (never shown as is)."""

    user_id: str
    full_name: str
    verification: VerificationStatus
    specialty_code: str
    erased: bool


@dataclass(frozen=True, slots=True)
class DisclosedSpecialty:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Persona:
    alias_id: str
    handle: str
    verified_physician: bool
    specialty: DisclosedSpecialty | None
    display_name: str | None
    visibility: Visibility
    state: AliasState


@dataclass(frozen=True, slots=True)
class Disclosure:
    """The facts a persona decision needs besides the alias and its owner."""

    k: int
    verified_counts: Mapping[str, int]
    specialty_names: Mapping[str, str]
    handle_number: Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Frozen:
    """A persona decided once: the public part, and the display name to seal (or None)."""

    persona: FrozenPersona
    display_name: str | None


def freeze(alias: StoredAlias, owner: PersonaAttributes | None, disclosure: Disclosure) -> Frozen:
    """What `alias` discloses from now on; `owner` None when the alias is orphaned.

    For a new alias the owner is VERIFIED (only they get aliases). For an alias made before
    personas were frozen this is exactly the face it showed until then, so freezing
    changes nothing visible.
    """
    live = owner is not None and not owner.erased and not alias.orphaned
    verified = (
        live
        and owner is not None
        and owner.verification is VerificationStatus.VERIFIED
        and alias.state is AliasState.ACTIVE
    )
    specialty = None
    if verified and owner is not None:
        specialty = _disclosed_specialty(owner.specialty_code, disclosure)
    display_name = None
    if live and owner is not None and alias.visibility is Visibility.IDENTIFIED:
        display_name = owner.full_name or None
    return Frozen(
        FrozenPersona(
            handle=handle(alias.alias_id, specialty, disclosure.handle_number),
            verified_physician=verified,
            specialty_code=specialty.code if specialty else None,
            specialty_name=specialty.name if specialty else None,
        ),
        display_name,
    )


def unfrozen(alias: StoredAlias, handle_number: Callable[[str], int]) -> FrozenPersona:
    """The face of an alias not frozen yet (startup freezing failed): discloses nothing."""
    return FrozenPersona(handle(alias.alias_id, None, handle_number), False, None, None)


def describe(alias: StoredAlias, frozen: FrozenPersona, display_name: str | None) -> Persona:
    """The persona of `alias` from its frozen face and its opened display name, if any."""
    specialty = None
    if frozen.specialty_code:
        name = frozen.specialty_name or frozen.specialty_code
        specialty = DisclosedSpecialty(code=frozen.specialty_code, name=name)
    return Persona(
        alias_id=alias.alias_id,
        handle=frozen.handle,
        verified_physician=frozen.verified_physician,
        specialty=specialty,
        display_name=display_name if alias.visibility is Visibility.IDENTIFIED else None,
        visibility=alias.visibility,
        state=alias.state,
    )


def handle(
    alias_id: str, specialty: DisclosedSpecialty | None, handle_number: Callable[[str], int]
) -> str:
    noun = _noun(specialty) if specialty else "Physician"
    return f"Anonymous {noun} {handle_number(alias_id)}"


def _disclosed_specialty(code: str, disclosure: Disclosure) -> DisclosedSpecialty | None:
    if not code or disclosure.verified_counts.get(code, 0) < disclosure.k:
        return None
    return DisclosedSpecialty(code=code, name=disclosure.specialty_names.get(code, code))


def _noun(specialty: DisclosedSpecialty) -> str:
    return _NOUNS.get(specialty.code) or f"{specialty.name} Physician"
