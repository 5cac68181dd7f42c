"""Detectors for HIPAA Safe Harbor identifiers: one regex (plus a validator) per shape.

Each detector finds candidate spans; `guard.py` runs them in priority order and reports the
hits. The patterns are deliberately conservative around clinical notation: doses, lab
values, blood pressures, ICD codes, times, bare years and relative days must pass.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass


class IdentifierKind(enum.Enum):
    """What a hit looks like; the value is the phrase used in the error message."""

    EMAIL_ADDRESS = "an email address"
    URL = "a web address (URL)"
    IP_ADDRESS = "an IP address"
    FAX_NUMBER = "a fax number"
    PHONE_NUMBER = "a phone number"
    SSN = "a social security number"
    MEDICAL_RECORD_NUMBER = "a medical record number"
    HEALTH_PLAN_NUMBER = "a health plan or insurance number"
    ACCOUNT_NUMBER = "an account number"
    CERTIFICATE_NUMBER = "a certificate or licence number"
    DEVICE_IDENTIFIER = "a device identifier or serial number"
    LICENSE_PLATE = "a licence plate"
    VEHICLE_IDENTIFIER = "a vehicle identification number"
    CREDIT_CARD = "a payment card number"
    NPI = "a National Provider Identifier"
    DATE = "a date more precise than the year"
    STREET_ADDRESS = "a street address"
    ZIP_CODE = "a ZIP code"
    PERSON_NAME = "a person's name"


Validator = Callable[[re.Match[str]], bool]


@dataclass(frozen=True, slots=True)
class Detector:
    """A pattern for one kind; `group` is the part reported, `valid` filters false positives."""

    kind: IdentifierKind
    pattern: re.Pattern[str]
    group: int | str = 0
    valid: Validator | None = None

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        for match in self.pattern.finditer(text):
            if self.valid is None or self.valid(match):
                yield match.span(self.group)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _luhn_ok(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_ok(match: re.Match[str]) -> bool:
    digits = _digits(match.group(0))
    return 13 <= len(digits) <= 19 and _luhn_ok(digits)


def _npi_ok(match: re.Match[str]) -> bool:
    # NPIs are Luhn-checked with the 80840 health-industry prefix.
    return _luhn_ok("80840" + match.group(0))


def _ssn_ok(match: re.Match[str]) -> bool:
    area, group, serial = match.group("area"), match.group("group"), match.group("serial")
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _ip_ok(match: re.Match[str]) -> bool:
    try:
        address = ipaddress.ip_address(match.group(0))
    except ValueError:
        return False
    # A bare "::" or "1::" is as likely notation as an address; require some substance.
    return address.version == 4 or len(_digits(match.group(0))) + match.group(0).count(":") > 6


def _day_ok(month: str, day: str) -> bool:
    return 1 <= int(month) <= 12 and 1 <= int(day) <= 31


def _numeric_date_ok(match: re.Match[str]) -> bool:
    groups = match.groupdict()
    first, second = groups["a"], groups.get("b") or groups.get("b2") or ""
    # US month/day or European day/month: either reading being a date is enough.
    return _day_ok(first, second) or _day_ok(second, first)


def _iso_date_ok(match: re.Match[str]) -> bool:
    return _day_ok(match.group("month"), match.group("day"))


def _id_ok(match: re.Match[str]) -> bool:
    # At least four digits, and not merely a year ("insurance since 2019" is fine).
    value = match.group("id")
    return len(_digits(value)) >= 4 and re.fullmatch(r"(?:19|20)\d\d", value) is None


def _plate_ok(match: re.Match[str]) -> bool:
    plate = match.group("id")
    alnum = [c for c in plate if c.isalnum()]
    return len(alnum) >= 5 and any(c.isdigit() for c in alnum) and any(c.isalpha() for c in alnum)


def _dob_ok(match: re.Match[str]) -> bool:
    # A birth year alone is allowed (ages over 89 are handled by the age band).
    value = match.group("d").rstrip(".,;")
    return any(c.isdigit() for c in value) and re.fullmatch(r"\d{4}", value) is None


_I = re.IGNORECASE
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_NANP = r"(?:\+?1[\s.-]?)?(?:\([2-9]\d{2}\)|[2-9]\d{2})[\s.-]?[2-9]\d{2}[\s.-]?\d{4}"
_INTERNATIONAL = r"\+(?:[2-9]\d{0,2})(?:[\s.-]?\d){7,13}"
_ID = r"(?P<id>[A-Z0-9][A-Z0-9-]{3,19})\b"


def _labelled(strong: str, weak: str) -> re.Pattern[str]:
    """A label, then the id. Strong labels ("MRN") need nothing more; weak ones ("patient")
    need a marker such as "#", "no." or "ID" so ordinary prose after them passes."""
    marker = r"(?:#|no\.?|num(?:ber)?|id)"
    return re.compile(
        rf"\b(?:(?:{strong})\b(?:\s*(?:{marker}|:|is))*"
        rf"|(?:{weak})\b\s*{marker}(?:\s*(?:{marker}|:|is))*)\s*{_ID}",
        _I,
    )


DETECTORS: tuple[Detector, ...] = (
    Detector(
        IdentifierKind.EMAIL_ADDRESS,
        re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    ),
    Detector(
        IdentifierKind.URL,
        re.compile(
            r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"']+"
            r"|\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|org|net|edu|gov)"
            r"(?:/[^\s<>\"']*)?\b",
            _I,
        ),
    ),
    Detector(
        IdentifierKind.IP_ADDRESS,
        re.compile(
            r"(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"
            r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}:?[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{1,4})*(?![\w:])"
        ),
        valid=_ip_ok,
    ),
    Detector(
        IdentifierKind.FAX_NUMBER,
        re.compile(rf"\bfax\b\D{{0,15}}?(?P<n>{_NANP}|{_INTERNATIONAL})(?!\d)", _I),
        group="n",
    ),
    Detector(IdentifierKind.PHONE_NUMBER, re.compile(rf"(?<![\w+]){_NANP}(?!\d)")),
    Detector(IdentifierKind.PHONE_NUMBER, re.compile(rf"(?<!\w){_INTERNATIONAL}(?!\d)")),
    Detector(
        IdentifierKind.PHONE_NUMBER,
        re.compile(
            r"\b(?:phone|tel|telephone|cell|mobile|call|pager|ext)\b\D{0,12}?"
            r"(?P<n>(?<!\d)[2-9]\d{2}[\s.-]\d{4})(?!\d)",
            _I,
        ),
        group="n",
    ),
    Detector(
        IdentifierKind.SSN,
        re.compile(r"(?<![\d-])(?P<area>\d{3})-(?P<group>\d{2})-(?P<serial>\d{4})(?![\d-])"),
        valid=_ssn_ok,
    ),
    Detector(
        IdentifierKind.SSN,
        re.compile(
            r"\b(?:SSN|SS#|social security(?: number| no\.?)?)\W{0,4}"
            r"(?P<n>(?P<area>\d{3})(?P<group>\d{2})(?P<serial>\d{4}))\b",
            _I,
        ),
        group="n",
        valid=_ssn_ok,
    ),
    Detector(
        IdentifierKind.MEDICAL_RECORD_NUMBER,
        _labelled(
            r"MRN|medical record|hospital number",
            r"MR|chart|patient|pt|encounter|visit|admission|case",
        ),
        group="id",
        valid=_id_ok,
    ),
    Detector(
        IdentifierKind.HEALTH_PLAN_NUMBER,
        _labelled(
            r"medicare|medicaid|MBI|subscriber|beneficiary|insurance|policy",
            r"member|plan|group|health plan",
        ),
        group="id",
        valid=_id_ok,
    ),
    Detector(
        IdentifierKind.ACCOUNT_NUMBER,
        _labelled(r"acct", r"account|billing|invoice|claim"),
        group="id",
        valid=_id_ok,
    ),
    Detector(
        IdentifierKind.LICENSE_PLATE,
        re.compile(
            r"\b(?:licen[cs]e plate|number plate|plates?|registration)\b"
            r"(?:\s*(?:#|no\.?|number|is|was|reads|:)){0,3}\s*"
            r"(?P<id>[A-Z0-9]{1,4}[\s-]?[A-Z0-9]{2,5})\b",
            _I,
        ),
        group="id",
        valid=_plate_ok,
    ),
    Detector(
        IdentifierKind.VEHICLE_IDENTIFIER,
        re.compile(
            r"\b(?:VIN|vehicle identification number)\W{0,4}(?P<id>[A-HJ-NPR-Z0-9]{17})\b", _I
        ),
        group="id",
    ),
    Detector(
        IdentifierKind.CERTIFICATE_NUMBER,
        _labelled(r"DEA|passport|driver'?s licen[cs]e", r"licen[cs]e|certificate|DL"),
        group="id",
        valid=_id_ok,
    ),
    Detector(
        IdentifierKind.DEVICE_IDENTIFIER,
        _labelled(r"serial|S/N|IMEI|UDI", r"device|lot|SN"),
        group="id",
        valid=_id_ok,
    ),
    Detector(
        IdentifierKind.CREDIT_CARD,
        re.compile(r"(?<![\d.])\d{4}(?:[ -]?\d{3,4}){2,3}(?:[ -]?\d{1,3})?(?![\d.])"),
        valid=_card_ok,
    ),
    Detector(IdentifierKind.NPI, re.compile(r"(?<![\d.-])[12]\d{9}(?![\d.-])"), valid=_npi_ok),
    Detector(
        IdentifierKind.DATE,
        # Two-digit years only with slashes: "5-10-15 mg" is a titration, not a date.
        re.compile(
            r"(?<![\d/.-])(?P<a>\d{1,2})(?:/(?P<b>\d{1,2})/(?:\d{4}|\d{2})"
            r"|([.-])(?P<b2>\d{1,2})\3\d{4})(?![\d/.-])"
        ),
        valid=_numeric_date_ok,
    ),
    Detector(
        IdentifierKind.DATE,
        re.compile(r"(?<![\d/.-])\d{4}([/.-])(?P<month>\d{1,2})\1(?P<day>\d{1,2})(?![\d/.-])"),
        valid=_iso_date_ok,
    ),
    Detector(
        IdentifierKind.DATE,
        re.compile(
            rf"\b{_MONTHS}\s+{_DAY}\b(?:,?\s+\d{{4}}\b)?"
            rf"|\b{_DAY}\s+(?:of\s+)?{_MONTHS}(?:,?\s+\d{{4}}\b)?"
        ),
    ),
    Detector(
        IdentifierKind.DATE,
        re.compile(
            r"\b(?:admitted|discharged|seen|dated|DOB|DOD|born|died)\b\s+"
            r"(?:on\s+)?(?P<d>(?P<a>\d{1,2})/(?P<b>\d{1,2}))(?![\d/])",
            _I,
        ),
        group="d",
        valid=_numeric_date_ok,
    ),
    Detector(
        IdentifierKind.DATE,
        re.compile(r"\b(?:DOB|D\.O\.B\.?|date of birth|birth ?date)\b\W{0,4}(?P<d>\S+)", _I),
        group="d",
        valid=_dob_ok,
    ),
    Detector(
        IdentifierKind.STREET_ADDRESS,
        re.compile(
            r"\b\d{1,6}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?(?:(?:[A-Z][a-z']+|\d+(?:st|nd|rd|th))\s+){1,4}"
            r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl"
            r"|Way|Terrace|Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq|Trail|Trl)\b\.?"
        ),
    ),
    Detector(
        IdentifierKind.STREET_ADDRESS,
        re.compile(r"\b(?:P\.?\s?O\.?\s?Box|post office box)\s+\d+\b", _I),
    ),
    Detector(IdentifierKind.ZIP_CODE, re.compile(r"(?<![\d-])\d{5}-\d{4}(?![\d-])")),
    Detector(
        IdentifierKind.ZIP_CODE,
        re.compile(
            r"\b(?:A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]"
            r"|PA|RI|S[CD]|T[NX]|UT|V[TA]|W[AVIY]),?\s+(?P<zip>\d{5})(?![\d-])"
        ),
        group="zip",
    ),
    Detector(
        IdentifierKind.PERSON_NAME,
        re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+(?P<name>[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)"),
        group="name",
    ),
)
