"""What an auditor may ask of the ledger: filters, page sizes and opaque page cursors."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime

from plumbing.auth.claims import AccessClaims, Role
from plumbing.errors import FieldViolation, InvalidArgument, PermissionDenied, Unauthenticated

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def require_auditor(caller: AccessClaims | None) -> AccessClaims:
    """The caller, if they hold AUDITOR; the ledger names people, so nobody else reads it."""
    if caller is None:
        raise Unauthenticated("sign in as an auditor to read the audit ledger")
    if Role.AUDITOR not in caller.roles:
        raise PermissionDenied("reading the audit ledger needs the AUDITOR role")
    return caller


def page_size(requested: int) -> int:
    """0 (or less) means the default; more than the maximum is cut to it."""
    if requested <= 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch: the ledger's exact, portable ordering key."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Unset fields match everything; set ones must all match. Actions match any of them."""

    actor_id: str = ""
    subject_id: str = ""
    #: Matches as well as `subject_id`: the blind tag identity records for that user id.
    subject_tag: str = ""
    actions: frozenset[str] = field(default_factory=frozenset)
    decision: str = ""
    occurred_after: datetime | None = None  # inclusive
    occurred_before: datetime | None = None  # exclusive
    trace_id: str = ""
    producer: str = ""


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """The position after which the next page starts: (time, event id), oldest first."""

    occurred_at_us: int
    event_id: str

    def encode(self) -> str:
        raw = f"{self.occurred_at_us}:{self.event_id}".encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """The cursor of a page token; InvalidArgument for one this ledger did not issue."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            moment, _, event_id = raw.partition(":")
            if not event_id:
                raise ValueError(token)
            return cls(int(moment), event_id)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidArgument(
                [FieldViolation("page_token", "pass a next_page_token from a previous answer")]
            ) from None
