"""A person's index of their own items and notifications, as rows nobody can group without keys.

Every entry is its own row, keyed by an HMAC of (stream, position) under a key derived from the
person's data key, and sealed under that data key with its row key as associated data. So:
- without the data key, rows are unrelated random keys and same-length ciphertexts: a reader of
  the database cannot tell whose an entry is, nor that two entries share an owner;
- with it (the person signed in, or anonymity on their behalf) the n-th entry of a stream is one
  primary-key lookup, and a stream's length a handful of them (`count`);
- erasure deletes the data key: the rows stay, unreadable, and nothing is deleted or rewritten
  as a group (that would show which rows were one person's).

Writers must keep the pattern of rows independent of who owns what: every content event writes
the same number of rows whatever its aliases' owners are (a decoy stands in for an entry that is
not due, e.g. a reply to oneself), so counting rows never tells that two aliases share an owner.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from services.anonymity.domain.crypto import CryptoError, decrypt, encrypt, length_prefixed

#: Plaintext size every entry is padded to before sealing, so lengths say nothing of the kind.
PADDED = 256


class Stream(enum.Enum):
    ACTIVITY = "activity"
    NOTIFICATIONS = "notifications"


class EntryKind(enum.Enum):
    POST = "POST"
    COMMENT = "COMMENT"
    REPLY_TO_POST = "REPLY_TO_POST"
    REPLY_TO_COMMENT = "REPLY_TO_COMMENT"
    CASE_SOLVED = "CASE_SOLVED"


@dataclass(frozen=True, slots=True)
class Entry:
    kind: EntryKind
    post_id: str
    comment_id: str
    occurred_at: datetime
    #: Activity only: the visibility of the alias written under (a Visibility value).
    visibility: str = ""


@dataclass(frozen=True, slots=True)
class Positioned:
    """An entry and its 1-based position in its stream (newest is the highest)."""

    position: int
    entry: Entry


class PersonIndex:
    """The keys of one person's index, derived from their data key."""

    def __init__(self, data_key: bytes) -> None:
        self._data_key = data_key
        self._base = hmac.new(data_key, b"consilium.anonymity.index.v1", hashlib.sha256).digest()

    def row_key(self, stream: Stream, position: int) -> str:
        return self.list_key(stream.value, position)

    def list_key(self, name: str, position: int) -> str:
        """The row of `position` in the list called `name` (a stream, or a thread's followers)."""
        message = f"{name}:{position}".encode()
        return hmac.new(self._base, message, hashlib.sha256).hexdigest()

    def seal_text(self, row_key: str, text: str) -> bytes:
        return encrypt(self._data_key, _pad(text.encode()), aad=length_prefixed("text", row_key))

    def open_text(self, row_key: str, blob: bytes) -> str:
        plain = decrypt(self._data_key, blob, aad=length_prefixed("text", row_key))
        return _unpad(plain).decode()

    def marker_key(self, stream: Stream) -> str:
        """The row holding how far the person has read `stream` (written only by them)."""
        return hmac.new(self._base, f"read:{stream.value}".encode(), hashlib.sha256).hexdigest()

    def seal(self, row_key: str, entry: Entry) -> bytes:
        return encrypt(self._data_key, _pad(_encode(entry)), aad=length_prefixed("entry", row_key))

    def open(self, row_key: str, blob: bytes) -> Entry:
        plain = decrypt(self._data_key, blob, aad=length_prefixed("entry", row_key))
        return _decode(_unpad(plain))

    def seal_marker(self, row_key: str, position: int) -> bytes:
        plain = _pad(json.dumps({"read": position}).encode())
        return encrypt(self._data_key, plain, aad=length_prefixed("marker", row_key))

    def open_marker(self, row_key: str, blob: bytes) -> int:
        plain = decrypt(self._data_key, blob, aad=length_prefixed("marker", row_key))
        return int(json.loads(_unpad(plain))["read"])


def decoy() -> tuple[str, bytes]:
    """A row like any entry's (random key, ciphertext of an entry's length) that is nobody's."""
    sealed_length = len(encrypt(os.urandom(32), b"\0" * PADDED, aad=b""))
    return os.urandom(32).hex(), os.urandom(sealed_length)


async def count(exists: Callable[[int], Awaitable[bool]]) -> int:
    """How many entries a stream has: positions 1..n are taken, n+1 is free (entries are only
    ever appended). O(log n) lookups: double up to a free position, then bisect."""
    if not await exists(1):
        return 0
    low, high = 1, 2
    while await exists(high):
        low, high = high, high * 2
    while high - low > 1:  # low is taken, high is free
        middle = (low + high) // 2
        if await exists(middle):
            low = middle
        else:
            high = middle
    return low


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"ix:{position}".encode()).rstrip(b"=").decode()


def decode_cursor(token: str) -> int:
    """The position of a cursor; ValueError for one this service did not issue."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise ValueError(token) from error
    prefix, _, number = raw.partition(":")
    if prefix != "ix" or not number.isdigit() or int(number) < 1:
        raise ValueError(token)
    return int(number)


def _encode(entry: Entry) -> bytes:
    return json.dumps(
        {
            "k": entry.kind.value,
            "p": entry.post_id,
            "c": entry.comment_id,
            "t": entry.occurred_at.isoformat(),
            "v": entry.visibility,
        },
        separators=(",", ":"),
    ).encode()


def _decode(raw: bytes) -> Entry:
    data = json.loads(raw)
    return Entry(
        EntryKind(data["k"]),
        str(data["p"]),
        str(data["c"]),
        datetime.fromisoformat(data["t"]),
        str(data["v"]),
    )


def _pad(raw: bytes) -> bytes:
    if len(raw) > PADDED - 2:
        raise CryptoError("an index entry is too long to pad")
    return len(raw).to_bytes(2, "big") + raw + b"\0" * (PADDED - 2 - len(raw))


def _unpad(padded: bytes) -> bytes:
    size = int.from_bytes(padded[:2], "big")
    return padded[2 : 2 + size]
