"""The NUCC specialty catalogue: well-formed codes, known entries, lookups and ordering."""

from __future__ import annotations

import re

import pytest

from plumbing.errors import NotFound
from services.identity.domain.specialties import (
    Specialty,
    all_specialties,
    find_specialty,
    get_specialty,
    is_known_specialty,
    normalize_specialty_code,
)

#: NUCC codes: 10 characters, three digits (the grouping), six alphanumerics, a final X.
NUCC_CODE = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")

#: Codes the product brief names; each must be present with this meaning.
EXPECTED = {
    "207RC0000X": "Cardiovascular Disease",
    "207Q00000X": "Family Medicine",
    "207R00000X": "Internal Medicine",
    "2084N0400X": "Neurology",
    "207V00000X": "Obstetrics & Gynecology",
    "208000000X": "Pediatrics",
    "2084P0800X": "Psychiatry",
    "2085R0202X": "Diagnostic Radiology",
    "207P00000X": "Emergency Medicine",
    "208600000X": "Surgery",
    "207X00000X": "Orthopaedic Surgery",
    "207N00000X": "Dermatology",
    "207RG0100X": "Gastroenterology",
    "207RE0101X": "Endocrinology, Diabetes & Metabolism",
    "207RN0300X": "Nephrology",
    "207RP1001X": "Pulmonary Disease",
    "207RH0003X": "Hematology & Oncology",
    "207RI0200X": "Infectious Disease",
    "207L00000X": "Anesthesiology",
    "207W00000X": "Ophthalmology",
    "207Y00000X": "Otolaryngology",
    "208800000X": "Urology",
    "207ZP0102X": "Anatomic Pathology & Clinical Pathology",
    "2083P0500X": "Preventive Medicine/Occupational Environmental Medicine",
}


def test_the_catalogue_is_a_curated_list_of_about_forty() -> None:
    assert 35 <= len(all_specialties()) <= 60


def test_every_code_is_a_well_formed_physician_taxonomy_code() -> None:
    for specialty in all_specialties():
        assert NUCC_CODE.match(specialty.code), specialty.code
        # Allopathic & Osteopathic Physicians codes all start with 20.
        assert specialty.code.startswith("20"), specialty.code
        assert specialty.name.strip() == specialty.name != ""
        assert specialty.classification


def test_codes_and_names_are_unique() -> None:
    specialties = all_specialties()
    assert len({s.code for s in specialties}) == len(specialties)
    assert len({s.name for s in specialties}) == len(specialties)


def test_the_list_is_sorted_by_name() -> None:
    names = [s.name.casefold() for s in all_specialties()]
    assert names == sorted(names)


@pytest.mark.parametrize(("code", "name"), sorted(EXPECTED.items()))
def test_the_well_known_codes_are_present(code: str, name: str) -> None:
    assert get_specialty(code).name == name


def test_subspecialties_name_their_nucc_classification() -> None:
    assert get_specialty("207RC0000X").classification == "Internal Medicine"
    assert get_specialty("2084N0400X").classification == "Psychiatry & Neurology"
    assert get_specialty("2085R0202X").classification == "Radiology"


@pytest.mark.parametrize("spelling", ["207RC0000X", "207rc0000x", "  207Rc0000X\n"])
def test_lookup_ignores_case_and_blanks(spelling: str) -> None:
    expected = Specialty("207RC0000X", "Cardiovascular Disease", "Internal Medicine")
    assert find_specialty(spelling) == expected
    assert get_specialty(spelling) == expected
    assert is_known_specialty(spelling)
    assert normalize_specialty_code(spelling) == "207RC0000X"


@pytest.mark.parametrize("unknown", ["", "207RC0000", "363L00000X", "Cardiology", "XXXXXXXXXX"])
def test_unknown_codes_are_not_found(unknown: str) -> None:
    assert find_specialty(unknown) is None
    assert not is_known_specialty(unknown)
    with pytest.raises(NotFound, match="no specialty has that NUCC taxonomy code"):
        get_specialty(unknown)


def test_not_found_does_not_echo_the_code() -> None:
    with pytest.raises(NotFound) as caught:
        get_specialty("CANARY0000X")
    assert "CANARY" not in caught.value.message


def test_specialties_are_immutable() -> None:
    specialty = all_specialties()[0]
    with pytest.raises(AttributeError):
        specialty.name = "Renamed"  # type: ignore[misc]
