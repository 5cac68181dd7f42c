"""Page sizes and opaque keyset cursors, stable while new rows arrive between pages."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from plumbing.errors import FieldViolation, InvalidArgument

DEFAULT_PAGE_SIZE = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
MAX_PAGE_SIZE = 100
#: Cursors we hand out are well under this; a longer one is not ours, and is refused before
#: it is decoded at all (a deep JSON nest would otherwise exhaust the parser's recursion).
MAX_CURSOR_LENGTH = 1024
#: Strings JSON writes as they are, between quotes (no escapes): our ids and list kinds.
_PLAIN = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a list ordered by (score, created_at, id).

    Feeds and comment lists order by time and id alone (score 0). Ids break ties, so the
    order is total and a page boundary never splits or repeats rows; the position is a
    value, not an offset, so rows inserted since do not shift it.
    """

    created_at: datetime
    row_id: str
    score: float = 0.0

    def encode(self, kind: str) -> str:
        # Integer microseconds: a float timestamp would round away the last digits.
        micros = (self.created_at - _EPOCH) // _MICROSECOND
        if _PLAIN.fullmatch(kind) and _PLAIN.fullmatch(self.row_id):
            # What json.dumps writes for these values, without its cost: a page of comments
            # carries one cursor per comment, and the feed asks for sixty at once.
            payload = f'["{kind}",{micros},"{self.row_id}","{self.score.hex()}"]'
        else:
            payload = json.dumps(
                [kind, micros, self.row_id, self.score.hex()], separators=(",", ":")
            )
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(value: str, kind: str, field: str = "after") -> Cursor | None:
    """The cursor in `value` (None when empty); INVALID_ARGUMENT if it is not one of `kind`."""
    if not value:
        return None
    try:
        if len(value) > MAX_CURSOR_LENGTH:
            raise ValueError(kind)
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        found, micros, row_id, score = json.loads(raw)
        if found != kind or not isinstance(row_id, str) or not isinstance(micros, int):
            raise ValueError(kind)
        created = _EPOCH + micros * _MICROSECOND
        return Cursor(created, row_id, float.fromhex(score))
    except (ValueError, TypeError, binascii.Error, OverflowError, RecursionError):
        raise InvalidArgument(
            [
                FieldViolation(
                    field, f"is not a cursor of this list; pass next_cursor of a {kind} page"
                )
            ]
        ) from None


def page_size(first: int, field: str = "first") -> int:
    """`first` as a page size: 0 means the default; negative or above the maximum is refused."""
    if first == 0:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise InvalidArgument([FieldViolation(field, f"must be 0 to {MAX_PAGE_SIZE}")])
    return first
