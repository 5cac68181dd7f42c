"""The patient-identifier guard: refuses text that holds HIPAA Safe Harbor identifiers.

Runs offline on regexes and validators (`identifiers.py`). A hit names the field, the kind
of identifier and its character span (0-based, end exclusive, as in Python and JavaScript
slicing) and never repeats the matched text: echoing it would copy the identifier into
error messages, logs and client state.

Names of patients cannot be found reliably without a language model; only names after an
honorific ("Mrs. Smith") are caught. Authors remain responsible for de-identification.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.content.domain.identifiers import DETECTORS, IdentifierKind

#: Reported per field at most; one is enough to act on, a few help fix a pasted note at once.
MAX_HITS_PER_FIELD = 5


@dataclass(frozen=True, slots=True, order=True)
class Hit:
    """One identifier found: where it starts and ends in the text, and what it looks like."""

    start: int
    end: int
    kind: IdentifierKind


@dataclass(frozen=True, slots=True)
class Finding:
    """A hit in a named field, with the message to show the author."""

    field: str
    hit: Hit

    @property
    def description(self) -> str:
        return (
            f"looks like {self.hit.kind.value} ({self.hit.kind.name}) at characters "
            # An en dash, as typeset ranges are written; messages are read by people.
            f"{self.hit.start}–{self.hit.end}; remove patient identifiers (HIPAA Safe Harbor)"  # noqa: RUF001
        )


def scan(text: str) -> list[Hit]:
    """Every identifier in `text`, in order of position; overlapping hits are reported once.

    Detectors run in priority order (specific before generic: a fax number before a phone
    number, a labelled record number before a date), and a span already claimed by an
    earlier detector is not reported again.
    """
    claimed: list[Hit] = []
    for detector in DETECTORS:
        for start, end in detector.spans(text):
            if start == end or any(start < h.end and h.start < end for h in claimed):
                continue
            claimed.append(Hit(start, end, detector.kind))
    return sorted(claimed)


def check_fields(fields: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[Finding]:
    """Findings for each (field name, text) pair, fields in the order given."""
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    findings: list[Finding] = []
    for field, text in pairs:
        if text:
            findings.extend(Finding(field, hit) for hit in scan(text)[:MAX_HITS_PER_FIELD])
    return findings
