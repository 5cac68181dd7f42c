"""Registration validation: every rule, all bad fields at once, and no personal data in messages."""

from __future__ import annotations

import random

import pytest

from plumbing.errors import ErrorCode, InvalidArgument
from services.identity.domain.validation import (
    FULL_NAME_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    Registration,
    is_valid_npi,
    normalize_email,
    npi_check_digit,
    password_problems,
    validate_registration,
)

PERSIAN_WITH_ZWNJ = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
FULLWIDTH_NPI = "".join(chr(0xFF10 + int(d)) for d in "1234567893")

GOOD: dict[str, str] = {
    "email": "jane.doe@example.org",
    "password": "Tachycardia-at-dawn 7",
    "full_name": "Jane Doe",
    "npi": "1234567893",
    "specialty_code": "207RC0000X",
    "country": "US",
}


def register(**changes: str) -> Registration:
    return validate_registration(**{**GOOD, **changes})


def violations_of(**changes: str) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as caught:
        register(**changes)
    assert caught.value.code is ErrorCode.INVALID_ARGUMENT
    found = {v.field: v.description for v in caught.value.violations}
    assert len(found) == len(caught.value.violations), "one violation per field"
    return found


def _reference_luhn_valid(npi: str) -> bool:
    """Textbook Luhn over the full card-style number 80840 + NPI, independent of the code."""
    digits = [int(c) for c in "80840" + npi]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit * 2 > 9 else digit * 2
        total += digit
    return total % 10 == 0


# --- the whole registration -------------------------------------------------------------


def test_a_good_registration_comes_back_normalised() -> None:
    result = register(
        email="  Jane.Doe@EXAMPLE.org ",
        full_name="  Jane  Q.   Doe ",
        npi=" 1234567893 ",
        specialty_code=" 207rc0000x ",
        country=" us",
    )
    assert result == Registration(
        email="jane.doe@example.org",
        password=GOOD["password"],
        full_name="Jane Q. Doe",
        npi="1234567893",
        specialty_code="207RC0000X",
        country="US",
    )


def test_the_password_is_kept_out_of_the_repr() -> None:
    assert GOOD["password"] not in repr(register())


def test_every_bad_field_is_reported_at_once_with_exact_field_names() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_registration(
            email="not-an-email",
            password="short",
            full_name="",
            npi="1234567890",
            specialty_code="999999999X",
            country="Atlantis",
        )
    fields = [v.field for v in caught.value.violations]
    assert fields == ["email", "password", "full_name", "npi", "specialty_code", "country"]
    assert caught.value.message == (
        "invalid input in: email, password, full_name, npi, specialty_code, country"
    )


def test_only_the_bad_fields_are_reported() -> None:
    assert set(violations_of(npi="1234567890", country="XX")) == {"npi", "country"}


def test_descriptions_start_with_their_field_name() -> None:
    found = violations_of(
        email="x", password="x", full_name="", npi="1", specialty_code="", country=""
    )
    for field, description in found.items():
        assert description.startswith(f"{field}: ")


def test_messages_never_echo_the_personal_data_given() -> None:
    canary_email = "canary.qz7@@canary-domain"
    canary_npi = "1234567890"
    canary_name = "Canaryname\x00Zq7"
    with pytest.raises(InvalidArgument) as caught:
        validate_registration(
            email=canary_email,
            password="canary.qz7",
            full_name=canary_name,
            npi=canary_npi,
            specialty_code="CANARYSPEC",
            country="CANARYLAND",
        )
    texts = [caught.value.message, str(caught.value)] + [
        v.description for v in caught.value.violations
    ]
    for text in texts:
        for secret in (canary_email, "canary.qz7", "canary-domain", canary_npi, "Canaryname"):
            assert secret.lower() not in text.lower()


# --- email ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("jane@example.org", "jane@example.org"),
        ("Jane.Doe@Example.ORG", "jane.doe@example.org"),
        ("  dr.who+consult@hospital.example.com  ", "dr.who+consult@hospital.example.com"),
        ("admin@demo.consilium", "admin@demo.consilium"),
    ],
)
def test_valid_emails_are_lower_cased(given: str, stored: str) -> None:
    assert register(email=given).email == stored
    assert normalize_email(given) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "jane",
        "jane@",
        "@example.org",
        "jane@@example.org",
        "jane@example",
        "ja ne@example.org",
        "jane@localhost",
        "jane@exa_mple.org",
    ],
)
def test_malformed_emails_are_refused(bad: str) -> None:
    assert violations_of(email=bad)["email"] == (
        "email: not a valid email address; use the form name@example.org"
    )
    with pytest.raises(InvalidArgument) as caught:
        normalize_email(bad)
    assert [v.field for v in caught.value.violations] == ["email"]


# --- password -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "good",
    ["Tachycardia-at-dawn 7", "correct horse battery staple", "Zq8#mW2!vR4p", "consilium-demo"],
)
def test_strong_passwords_pass(good: str) -> None:
    assert password_problems(good, email="jane@example.org") == []
    assert register(password=good).password == good


def test_a_short_password_is_refused_with_how_to_fix_it() -> None:
    description = violations_of(password="Sh0rt-pass")["password"]
    assert "at least 12 characters" in description
    assert "passphrase" in description


def test_an_overlong_password_is_refused() -> None:
    long_password = ("Abcdefgh1-" * PASSWORD_MAX_LENGTH)[: PASSWORD_MAX_LENGTH + 1]
    assert "at most 256 characters" in violations_of(password=long_password)["password"]
    assert password_problems(long_password[:PASSWORD_MAX_LENGTH]) == []


@pytest.mark.parametrize(
    "one_class", ["abcdefghijklmn", "ABCDEFGHIJKLMN", "83749261057384", "!@#$%^&*()_+-="]
)
def test_a_password_of_one_character_class_is_refused(one_class: str) -> None:
    assert "only one kind of character" in violations_of(password=one_class)["password"]


def test_a_repetitive_password_is_refused() -> None:
    assert "too few different characters" in violations_of(password="aB1aB1aB1aB1aB1")["password"]


def test_a_password_containing_the_email_local_part_is_refused() -> None:
    description = violations_of(email="Jane.Doe@example.org", password="my-JANE.DOE-pass")[
        "password"
    ]
    assert "must not contain your email address" in description


def test_a_very_short_local_part_is_not_held_against_the_password() -> None:
    assert register(email="jd@example.org", password="xjdx-Quantum-9").password


@pytest.mark.parametrize(
    "common",
    [
        "password1234",
        "Password1234!",
        "qwertyuiop12",
        "!!Letmein2024!!",
        "Passw0rd-1234",
        "123456789012",
    ],
)
def test_common_passwords_are_refused(common: str) -> None:
    assert "most commonly used passwords" in violations_of(password=common)["password"]


def test_all_password_problems_are_listed_in_one_violation() -> None:
    description = violations_of(password="aaaa")["password"]
    assert "at least 12" in description
    assert "only one kind" in description
    assert "too few different" in description


# --- full name ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Jane Doe", "Jane Doe"),
        ("  Jane   Doe  ", "Jane Doe"),
        ("José Ñúñez", "José Ñúñez"),
        ("Jose\u0301 Doe", "Jos\u00e9 Doe"),  # composed to NFC
        ("李小龍", "李小龍"),
        (PERSIAN_WITH_ZWNJ, PERSIAN_WITH_ZWNJ),  # the ZWNJ belongs to Persian spelling
        ("A" * FULL_NAME_MAX_LENGTH, "A" * FULL_NAME_MAX_LENGTH),
    ],
)
def test_valid_names_are_normalised(given: str, stored: str) -> None:
    assert register(full_name=given).full_name == stored


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("", "must not be empty"),
        ("   \u00a0 ", "must not be empty"),
        ("A" * (FULL_NAME_MAX_LENGTH + 1), "at most 200 characters"),
        ("Jane\nDoe", "control or invisible formatting"),
        ("Jane\tDoe", "control or invisible formatting"),
        ("Jane\x07Doe", "control or invisible formatting"),
        ("Jane\u202eeoD", "control or invisible formatting"),  # right-to-left override
        ("Jane\u200bDoe", "control or invisible formatting"),  # zero-width space
        ("12345 678", "must contain letters"),
    ],
)
def test_invalid_names_are_refused(bad: str, expected: str) -> None:
    assert expected in violations_of(full_name=bad)["full_name"]


# --- NPI ------------------------------------------------------------------------------


def test_the_cms_worked_example_is_valid() -> None:
    assert npi_check_digit("123456789") == "3"
    assert is_valid_npi("1234567893")
    assert register(npi="1234567893").npi == "1234567893"


def test_a_wrong_check_digit_is_refused_and_explained() -> None:
    assert not is_valid_npi("1234567890")
    assert violations_of(npi="1234567890")["npi"] == (
        "npi: check digit does not match; an NPI is 10 digits starting with 1 or 2 "
        "with a Luhn check digit; check for a mistyped digit"
    )


def test_generated_npis_agree_with_a_textbook_luhn() -> None:
    rng = random.Random(20240611)
    for _ in range(200):
        stem = rng.choice("12") + "".join(rng.choice("0123456789") for _ in range(8))
        npi = stem + npi_check_digit(stem)
        assert is_valid_npi(npi)
        assert _reference_luhn_valid(npi)
        assert register(npi=npi).npi == npi
        wrong = stem + str((int(npi[-1]) + 1) % 10)
        assert not is_valid_npi(wrong)
        assert not _reference_luhn_valid(wrong)


def test_every_single_digit_typo_is_caught() -> None:
    valid = "1234567893"
    for position in range(1, 10):  # position 0 must stay 1 or 2 to reach the checksum
        for digit in "0123456789":
            if digit != valid[position]:
                typo = valid[:position] + digit + valid[position + 1 :]
                assert not is_valid_npi(typo), typo


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("", "exactly 10 digits"),
        ("123456789", "exactly 10 digits"),
        ("12345678931", "exactly 10 digits"),
        ("123-456-7893", "exactly 10 digits"),
        ("12345678X3", "exactly 10 digits"),
        (FULLWIDTH_NPI, "exactly 10 digits"),  # full-width digits are not ASCII digits
        ("3234567893", "must start with 1 or 2"),
        ("0234567893", "must start with 1 or 2"),
    ],
)
def test_malformed_npis_are_refused(bad: str, expected: str) -> None:
    description = violations_of(npi=bad)["npi"]
    assert expected in description
    assert "10 digits starting with 1 or 2 with a Luhn check digit" in description


@pytest.mark.parametrize("stem", ["12345678", "1234567890", "12345678a"])
def test_a_check_digit_needs_a_nine_digit_stem(stem: str) -> None:
    with pytest.raises(ValueError, match="9 ASCII digits"):
        npi_check_digit(stem)


# --- specialty and country ------------------------------------------------------------


def test_specialty_codes_are_upper_cased() -> None:
    assert register(specialty_code="2084n0400x").specialty_code == "2084N0400X"


@pytest.mark.parametrize("bad", ["", "Cardiology", "207RC0000", "363L00000X"])
def test_unknown_specialty_codes_are_refused(bad: str) -> None:
    assert "NUCC taxonomy code" in violations_of(specialty_code=bad)["specialty_code"]


@pytest.mark.parametrize(
    ("given", "stored"), [("US", "US"), ("de", "DE"), (" gb ", "GB"), ("Ng", "NG")]
)
def test_countries_are_upper_cased(given: str, stored: str) -> None:
    assert register(country=given).country == stored


@pytest.mark.parametrize("bad", ["", "USA", "U", "XX", "ZZ", "U1", "Ü S", "United States"])
def test_unknown_countries_are_refused(bad: str) -> None:
    assert violations_of(country=bad)["country"] == (
        "country: must be an ISO 3166-1 alpha-2 country code such as US, GB or DE"
    )


def test_arguments_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        validate_registration(*GOOD.values())  # type: ignore[call-arg]
