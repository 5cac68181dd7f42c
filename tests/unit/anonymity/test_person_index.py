"""The sealed per-person index: keys, sealing, padding, cursors and counting by lookups."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from services.anonymity.domain.crypto import CryptoError
from services.anonymity.domain.inbox import (
    Entry,
    EntryKind,
    PersonIndex,
    Stream,
    count,
    decode_cursor,
    decoy,
    encode_cursor,
)

AT = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_keys_are_per_person_per_stream_and_position() -> None:
    one, other = PersonIndex(os.urandom(32)), PersonIndex(os.urandom(32))
    keys = {
        one.row_key(Stream.ACTIVITY, 1),
        one.row_key(Stream.ACTIVITY, 2),
        one.row_key(Stream.NOTIFICATIONS, 1),
        one.marker_key(Stream.NOTIFICATIONS),
        other.row_key(Stream.ACTIVITY, 1),
    }
    assert len(keys) == 5 and all(len(k) == 64 for k in keys)


def test_entries_open_only_under_their_own_key_and_row() -> None:
    index = PersonIndex(os.urandom(32))
    entry = Entry(EntryKind.COMMENT, "pst_1", "cmt_1", AT, "ANONYMOUS")
    key = index.row_key(Stream.ACTIVITY, 1)
    blob = index.seal(key, entry)
    assert index.open(key, blob) == entry
    with pytest.raises(CryptoError):  # moved to another row: the associated data differs
        index.open(index.row_key(Stream.ACTIVITY, 2), blob)
    with pytest.raises(CryptoError):
        PersonIndex(os.urandom(32)).open(key, blob)


def test_every_row_has_the_same_length_decoys_included() -> None:
    index = PersonIndex(os.urandom(32))
    short = Entry(EntryKind.POST, "p", "", AT)
    long = Entry(
        EntryKind.REPLY_TO_COMMENT, "pst_" + "9" * 20, "cmt_" + "9" * 20, AT, "PSEUDONYMOUS"
    )
    key = index.row_key(Stream.NOTIFICATIONS, 1)
    marker = index.marker_key(Stream.NOTIFICATIONS)
    lengths = {
        len(index.seal(key, short)),
        len(index.seal(key, long)),
        len(index.seal_marker(marker, 12345)),
        len(decoy()[1]),
    }
    assert len(lengths) == 1
    assert index.open_marker(marker, index.seal_marker(marker, 7)) == 7


@pytest.mark.parametrize("total", [0, 1, 2, 3, 7, 8, 9, 100, 1025])
async def test_count_finds_the_length_in_logarithmic_lookups(total: int) -> None:
    asked: list[int] = []

    async def exists(position: int) -> bool:
        asked.append(position)
        return position <= total

    assert await count(exists) == total
    assert len(asked) <= 2 * max(total, 1).bit_length() + 2


def test_cursors_round_trip_and_reject_foreign_ones() -> None:
    assert decode_cursor(encode_cursor(42)) == 42
    for bad in ("", "x", encode_cursor(1)[:-1] + "!", "aXg6MA", "aXg6LTE"):  # "ix:0", "ix:-1"
        with pytest.raises(ValueError):
            decode_cursor(bad)
