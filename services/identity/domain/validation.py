"""Checks a registration and returns its normalised values, reporting every bad field at once."""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass, field

import pycountry
from email_validator import EmailNotValidError, validate_email

from plumbing.errors import FieldViolation, InvalidArgument
from services.identity.domain.specialties import is_known_specialty, normalize_specialty_code

__all__ = [
    "FULL_NAME_MAX_LENGTH",
    "PASSWORD_MAX_LENGTH",
    "PASSWORD_MIN_LENGTH",
    "Registration",
    "is_valid_npi",
    "normalize_email",
    "npi_check_digit",
    "password_problems",
    "validate_registration",
]

PASSWORD_MIN_LENGTH = 12
#: Bounds the work one login can cost the hasher; far above any real passphrase.
PASSWORD_MAX_LENGTH = 256
FULL_NAME_MAX_LENGTH = 200

_NPI_HELP = "an NPI is 10 digits starting with 1 or 2 with a Luhn check digit"
#: The NPI check digit is the Luhn digit of "80840" + the first nine digits; the prefix
#: (the ISO health-industry card issuer) always contributes 24 to the Luhn sum.
_NPI_PREFIX_LUHN_SUM = 24

#: Very common passwords (and the words they are built on) from public breach corpora.
#: Lengthy ones are listed verbatim; short stems catch "password1234!"-style padding.
_COMMON_CHOICES_TEXT = """
    password passw0rd p@ssword p@ssw0rd qwerty qwertyuiop azerty letmein welcome iloveyou
    admin administrator login abc abcdef monkey dragon football baseball sunshine princess
    superman trustno master shadow starwars whatever changeme secret doctor medicine
    hospital physician nurse consilium 123456789012 1234567890123 qwerty123456 password1234
    password12345 passwordpassword qwertyqwerty 111111111111 000000000000 123123123123
    abc123abc123 iloveyou1234 1q2w3e4r5t6y 1qaz2wsx3edc qazwsxedcrfv zaq12wsxcde3
    asdfghjkl123 letmein12345 welcome12345 changeme1234
"""
_COMMON_PASSWORDS: frozenset[str] = frozenset(_COMMON_CHOICES_TEXT.split())
_PADDING = string.digits + string.punctuation + " "
#: Zero-width (non-)joiners are format characters that some scripts need inside names.
_NAME_ALLOWED_FORMAT_CHARS = frozenset({"\u200c", "\u200d"})


@dataclass(frozen=True, slots=True)
class Registration:
    """A registration whose every field passed validation, in normal form."""

    email: str
    password: str = field(repr=False)
    full_name: str
    npi: str
    specialty_code: str
    country: str


def validate_registration(
    *,
    email: str,
    password: str,
    full_name: str,
    npi: str,
    specialty_code: str,
    country: str,
) -> Registration:
    """Validate and normalise a registration.

    Raises one InvalidArgument naming every offending field (email, password, full_name,
    npi, specialty_code, country). Descriptions say what is wrong and how to fix it, and
    never repeat the value given: they reach clients, logs and spans.
    """
    violations: list[FieldViolation] = []

    def report(name: str, problems: list[str]) -> None:
        if problems:
            violations.append(FieldViolation(name, f"{name}: " + "; ".join(problems)))

    email_value, email_problems = _check_email(email)
    report("email", email_problems)
    report("password", password_problems(password, email=email))
    name_value, name_problems = _check_full_name(full_name)
    report("full_name", name_problems)
    npi_value = npi.strip()
    report("npi", _npi_problems(npi_value))
    specialty_value = normalize_specialty_code(specialty_code)
    if not is_known_specialty(specialty_value):
        report(
            "specialty_code",
            ["not a known specialty; use a NUCC taxonomy code from the specialties list"],
        )
    country_value, country_problems = _check_country(country)
    report("country", country_problems)

    if violations:
        raise InvalidArgument(violations)
    return Registration(
        email=email_value,
        password=password,
        full_name=name_value,
        npi=npi_value,
        specialty_code=specialty_value,
        country=country_value,
    )


def normalize_email(email: str) -> str:
    """The canonical (lower-case, IDNA-normalised) form of an address, as accounts store it.

    Raises InvalidArgument on the `email` field if the address is malformed; sign-in can
    treat that as "no such account".
    """
    value, problems = _check_email(email)
    if problems:
        raise InvalidArgument([FieldViolation("email", "email: " + "; ".join(problems))])
    return value


def password_problems(password: str, *, email: str = "") -> list[str]:
    """What makes `password` too weak, each with how to fix it; empty when it is fine."""
    problems: list[str] = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(
            f"must be at least {PASSWORD_MIN_LENGTH} characters; "
            "a passphrase of a few unrelated words is long and easy to remember"
        )
    elif len(password) > PASSWORD_MAX_LENGTH:
        problems.append(f"must be at most {PASSWORD_MAX_LENGTH} characters")
    if password and _character_classes(password) < 2:
        problems.append(
            "uses only one kind of character; mix in upper-case letters, digits or symbols"
        )
    if password and len(set(password)) < 5:
        problems.append("repeats too few different characters; use a less repetitive password")
    local_part = email.strip().rpartition("@")[0].casefold() if "@" in email else ""
    if len(local_part) >= 3 and local_part in password.casefold():
        problems.append("must not contain your email address; choose something unrelated")
    lowered = password.casefold()
    if lowered in _COMMON_PASSWORDS or lowered.strip(_PADDING) in _COMMON_PASSWORDS:
        problems.append(
            "is one of the most commonly used passwords; choose one that is not a common word "
            "with digits or symbols added"
        )
    return problems


def npi_check_digit(first_nine: str) -> str:
    """The Luhn check digit (prefix 80840) that completes a 9-digit NPI stem."""
    if len(first_nine) != 9 or not _is_ascii_digits(first_nine):
        raise ValueError("an NPI stem is exactly 9 ASCII digits")
    total = _NPI_PREFIX_LUHN_SUM
    # Counting from the right of the stem, the 1st, 3rd, ... digits are doubled because
    # the check digit will sit to their right.
    for position, char in enumerate(reversed(first_nine)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_npi(npi: str) -> bool:
    """Whether `npi` is a well-formed National Provider Identifier (form and check digit)."""
    return not _npi_problems(npi)


def _npi_problems(npi: str) -> list[str]:
    if len(npi) != 10 or not _is_ascii_digits(npi):
        return [f"must be exactly 10 digits with no spaces or dashes; {_NPI_HELP}"]
    if npi[0] not in "12":
        return [f"must start with 1 or 2; {_NPI_HELP}"]
    if npi_check_digit(npi[:9]) != npi[9]:
        return [f"check digit does not match; {_NPI_HELP}; check for a mistyped digit"]
    return []


def _check_email(email: str) -> tuple[str, list[str]]:
    # The library's own messages quote parts of the address, so they are never passed on.
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        return "", ["not a valid email address; use the form name@example.org"]
    return checked.normalized.lower(), []


def _check_full_name(full_name: str) -> tuple[str, list[str]]:
    name = " ".join(unicodedata.normalize("NFC", full_name).split())
    if any(_is_forbidden_in_name(char) for char in full_name.strip()):
        return "", ["must not contain control or invisible formatting characters"]
    if not name:
        return "", ["must not be empty; give your name as it appears on your licence"]
    problems: list[str] = []
    if len(name) > FULL_NAME_MAX_LENGTH:
        problems.append(f"must be at most {FULL_NAME_MAX_LENGTH} characters")
    if not any(unicodedata.category(char).startswith("L") for char in name):
        problems.append("must contain letters")
    return name, problems


def _is_forbidden_in_name(char: str) -> bool:
    category = unicodedata.category(char)
    if category == "Cf":
        return char not in _NAME_ALLOWED_FORMAT_CHARS
    # Cc covers tabs and newlines too: a name is one line.
    return category in {"Cc", "Cs", "Co", "Cn", "Zl", "Zp"}


def _check_country(country: str) -> tuple[str, list[str]]:
    code = country.strip().upper()
    known = len(code) == 2 and code.isascii() and code.isalpha()
    if known and pycountry.countries.get(alpha_2=code) is not None:
        return code, []
    return "", ["must be an ISO 3166-1 alpha-2 country code such as US, GB or DE"]


def _character_classes(password: str) -> int:
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not (c.islower() or c.isupper() or c.isdigit()) for c in password)
    return sum((lower, upper, digit, other))


def _is_ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()
