"""Opaque cursors and page sizes; and the websearch-style query as FTS5 syntax."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from plumbing.errors import InvalidArgument
from services.content.adapters.search import fts5_query
from services.content.domain.paging import Cursor, decode_cursor, page_size


def test_a_cursor_round_trips_to_the_microsecond_and_exact_score() -> None:
    cursor = Cursor(datetime(2026, 3, 1, 12, 0, 0, 999_999, tzinfo=UTC), "pst_abc", 0.1 + 0.2)
    assert decode_cursor(cursor.encode("search"), "search") == cursor


@pytest.mark.parametrize(
    "row_id", ["pst_abc", "cmt_" + "z" * 26, "", 'a"b', "a\\b", "é", "tab\tnew\nline", "x/y"]
)
@pytest.mark.parametrize("score", [0.0, 0.1 + 0.2, -1.5])
def test_a_cursor_is_the_same_json_whatever_the_id(row_id: str, score: float) -> None:
    """Cursors handed out before stay valid: the fast path writes exactly what json.dumps
    wrote, and ids JSON must escape still round-trip."""
    moment = datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=UTC)
    cursor = Cursor(moment, row_id, score)
    micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    payload = json.dumps(["comments", micros, row_id, score.hex()], separators=(",", ":"))
    expected = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    assert cursor.encode("comments") == expected
    assert decode_cursor(expected, "comments") == cursor


def test_a_cursor_is_opaque() -> None:
    encoded = Cursor(datetime(2026, 3, 1, tzinfo=UTC), "pst_abc").encode("feed")
    assert "pst_abc" not in encoded and "2026" not in encoded


@pytest.mark.parametrize("bad", ["not-a-cursor", "e30", "W10", "!!!!"])
def test_garbage_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        decode_cursor(bad, "feed")
    assert [v.field for v in caught.value.violations] == ["after"]


def test_a_cursor_of_another_list_is_refused() -> None:
    comments = Cursor(datetime(2026, 3, 1, tzinfo=UTC), "cmt_x").encode("comments")
    with pytest.raises(InvalidArgument):
        decode_cursor(comments, "feed")


def test_empty_means_the_first_page() -> None:
    assert decode_cursor("", "feed") is None


@pytest.mark.parametrize(("first", "size"), [(0, 20), (1, 1), (100, 100)])
def test_page_sizes(first: int, size: int) -> None:
    assert page_size(first) == size


@pytest.mark.parametrize("first", [-1, 101])
def test_page_sizes_out_of_range_are_refused(first: int) -> None:
    with pytest.raises(InvalidArgument):
        page_size(first)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("chest pain", '"chest" "pain"'),
        ('"chest pain" troponin', '"chest pain" "troponin"'),
        ("stemi or nstemi", '"stemi" OR "nstemi"'),
        ("pain -chest", '"pain" NOT "chest"'),
        ("-chest pain", '"pain"'),
        ("title:foo NEAR(a b) *", '"title foo" "NEAR a" "b"'),
        ('unbalanced "quote here', '"unbalanced" "quote here"'),
        ("K+ 5.9", '"K" "5 9"'),
    ],
)
def test_fts5_query_quotes_every_term(query: str, expected: str) -> None:
    assert fts5_query(query) == expected


@pytest.mark.parametrize("query", ["", "   ", "-- ** !!", "or"])
def test_fts5_query_without_words_matches_nothing(query: str) -> None:
    assert fts5_query(query) is None
