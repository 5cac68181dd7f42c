"""The physician specialties a member may register with, keyed by NUCC taxonomy code."""

from __future__ import annotations

from dataclasses import dataclass

from plumbing.errors import NotFound

__all__ = [
    "Specialty",
    "all_specialties",
    "find_specialty",
    "get_specialty",
    "is_known_specialty",
    "normalize_specialty_code",
]


@dataclass(frozen=True, slots=True)
class Specialty:
    """One specialty: its NUCC Health Care Provider Taxonomy code and a display name.

    `classification` is the NUCC classification the code belongs to (e.g. "Internal
    Medicine" for Cardiovascular Disease); it lets clients group the list.
    """

    code: str
    name: str
    classification: str


# A curated subset of the NUCC "Allopathic & Osteopathic Physicians" grouping: the
# specialties members are most likely to practise, each code checked against the published
# NUCC code set. Names drop the NUCC classification prefix where the specialisation alone
# is unambiguous (NUCC: "Internal Medicine, Cardiovascular Disease" -> "Cardiovascular
# Disease"). Adding a code is safe; removing one strands members registered with it.
_CATALOGUE: tuple[Specialty, ...] = (
    Specialty("207K00000X", "Allergy & Immunology", "Allergy & Immunology"),
    Specialty("207L00000X", "Anesthesiology", "Anesthesiology"),
    Specialty("207LP2900X", "Pain Medicine (Anesthesiology)", "Anesthesiology"),
    Specialty("208C00000X", "Colon & Rectal Surgery", "Colon & Rectal Surgery"),
    Specialty("207N00000X", "Dermatology", "Dermatology"),
    Specialty("207P00000X", "Emergency Medicine", "Emergency Medicine"),
    Specialty("207Q00000X", "Family Medicine", "Family Medicine"),
    Specialty("208D00000X", "General Practice", "General Practice"),
    Specialty("208M00000X", "Hospitalist", "Hospitalist"),
    Specialty("207R00000X", "Internal Medicine", "Internal Medicine"),
    Specialty("207RC0000X", "Cardiovascular Disease", "Internal Medicine"),
    Specialty("207RC0001X", "Clinical Cardiac Electrophysiology", "Internal Medicine"),
    Specialty("207RC0200X", "Critical Care Medicine", "Internal Medicine"),
    Specialty("207RE0101X", "Endocrinology, Diabetes & Metabolism", "Internal Medicine"),
    Specialty("207RG0100X", "Gastroenterology", "Internal Medicine"),
    Specialty("207RG0300X", "Geriatric Medicine", "Internal Medicine"),
    Specialty("207RH0003X", "Hematology & Oncology", "Internal Medicine"),
    Specialty("207RI0008X", "Hepatology", "Internal Medicine"),
    Specialty("207RI0200X", "Infectious Disease", "Internal Medicine"),
    Specialty("207RI0011X", "Interventional Cardiology", "Internal Medicine"),
    Specialty("207RX0202X", "Medical Oncology", "Internal Medicine"),
    Specialty("207RN0300X", "Nephrology", "Internal Medicine"),
    Specialty("207RP1001X", "Pulmonary Disease", "Internal Medicine"),
    Specialty("207RR0500X", "Rheumatology", "Internal Medicine"),
    Specialty("207SG0201X", "Clinical Genetics (M.D.)", "Medical Genetics"),
    Specialty("207T00000X", "Neurological Surgery", "Neurological Surgery"),
    Specialty("207U00000X", "Nuclear Medicine", "Nuclear Medicine"),
    Specialty("207V00000X", "Obstetrics & Gynecology", "Obstetrics & Gynecology"),
    Specialty("207VM0101X", "Maternal & Fetal Medicine", "Obstetrics & Gynecology"),
    Specialty("207W00000X", "Ophthalmology", "Ophthalmology"),
    Specialty("207X00000X", "Orthopaedic Surgery", "Orthopaedic Surgery"),
    Specialty("207Y00000X", "Otolaryngology", "Otolaryngology"),
    Specialty("207ZP0102X", "Anatomic Pathology & Clinical Pathology", "Pathology"),
    Specialty("208000000X", "Pediatrics", "Pediatrics"),
    Specialty("2080N0001X", "Neonatal-Perinatal Medicine", "Pediatrics"),
    Specialty("2080P0202X", "Pediatric Cardiology", "Pediatrics"),
    Specialty("2080P0207X", "Pediatric Hematology-Oncology", "Pediatrics"),
    Specialty(
        "208100000X", "Physical Medicine & Rehabilitation", "Physical Medicine & Rehabilitation"
    ),
    Specialty("208200000X", "Plastic Surgery", "Plastic Surgery"),
    Specialty(
        "2083P0500X",
        "Preventive Medicine/Occupational Environmental Medicine",
        "Preventive Medicine",
    ),
    Specialty("2084N0400X", "Neurology", "Psychiatry & Neurology"),
    Specialty("2084P0800X", "Psychiatry", "Psychiatry & Neurology"),
    Specialty("2084P0804X", "Child & Adolescent Psychiatry", "Psychiatry & Neurology"),
    Specialty("2085R0202X", "Diagnostic Radiology", "Radiology"),
    Specialty("2085R0001X", "Radiation Oncology", "Radiology"),
    Specialty("2085R0204X", "Vascular & Interventional Radiology", "Radiology"),
    Specialty("208600000X", "Surgery", "Surgery"),
    Specialty("2086S0129X", "Vascular Surgery", "Surgery"),
    Specialty(
        "208G00000X",
        "Thoracic Surgery (Cardiothoracic Vascular Surgery)",
        "Thoracic Surgery (Cardiothoracic Vascular Surgery)",
    ),
    Specialty("208800000X", "Urology", "Urology"),
)

_BY_CODE: dict[str, Specialty] = {s.code: s for s in _CATALOGUE}
_SORTED: tuple[Specialty, ...] = tuple(
    sorted(_CATALOGUE, key=lambda s: (s.name.casefold(), s.code))
)

if len(_BY_CODE) != len(_CATALOGUE):  # pragma: no cover - guards edits to the table above
    raise RuntimeError("duplicate NUCC code in the specialty catalogue")


def normalize_specialty_code(code: str) -> str:
    """Return `code` as NUCC spells it: no surrounding blanks, upper case."""
    return code.strip().upper()


def all_specialties() -> tuple[Specialty, ...]:
    """Every known specialty, sorted by display name (the order a picker shows them in)."""
    return _SORTED


def find_specialty(code: str) -> Specialty | None:
    """The specialty with this NUCC code (case and blanks ignored), or None."""
    return _BY_CODE.get(normalize_specialty_code(code))


def is_known_specialty(code: str) -> bool:
    """Whether `code` names a specialty of the catalogue."""
    return find_specialty(code) is not None


def get_specialty(code: str) -> Specialty:
    """The specialty with this NUCC code; NotFound if the catalogue has no such code."""
    found = find_specialty(code)
    if found is None:
        raise NotFound(
            "specialty not found: no specialty has that NUCC taxonomy code; "
            "list the specialties to see the codes in use"
        )
    return found
