"""Property tests of content's paging cursors: round trips, and garbage is only a bad argument."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plumbing.errors import InvalidArgument
from services.content.domain.paging import Cursor, decode_cursor

BOUNDED = settings(max_examples=100, derandomize=True, database=None, deadline=None)

cursors = st.builds(
    Cursor,
    created_at=st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
    ),
    row_id=st.text(max_size=40),
    score=st.floats(allow_nan=False),
)
kinds = st.sampled_from(["feed", "comments", "search", "posts"])


@BOUNDED
@given(cursors, kinds)
def test_decode_inverts_encode(cursor: Cursor, kind: str) -> None:
    assert decode_cursor(cursor.encode(kind), kind) == cursor


@BOUNDED
@given(cursors, kinds, kinds)
def test_a_cursor_of_another_list_is_refused(cursor: Cursor, made: str, asked: str) -> None:
    if made == asked:
        return
    with pytest.raises(InvalidArgument):
        decode_cursor(cursor.encode(made), asked)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)
garbage = st.one_of(
    st.text(max_size=80),
    st.binary(max_size=80).map(_b64),
    json_values.map(lambda v: _b64(json.dumps(v).encode())),
    st.tuples(kinds, json_values, json_values, json_values).map(
        lambda t: _b64(json.dumps(list(t)).encode())
    ),
    # Deep nesting: json's recursion limit must read as a bad cursor too.
    st.integers(1, 5_000).map(lambda n: _b64(b"[" * n)),
)


@BOUNDED
@given(garbage, kinds)
def test_garbage_is_only_ever_an_invalid_argument(value: str, kind: str) -> None:
    try:
        decoded = decode_cursor(value, kind)
    except InvalidArgument as refused:
        # The refusal names the argument, never what was sent in it.
        if len(value) >= 8:
            assert all(value not in v.description for v in refused.violations)
    else:
        assert decoded is None or isinstance(decoded, Cursor)
