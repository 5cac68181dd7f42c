"""Hash chains and signatures for audit events: the producer links and signs, the ledger verifies.

Each producer numbers its events 1, 2, 3... and links each to the previous one:
`hash = SHA-256(prev_hash || deterministic protobuf bytes of the event with prev_hash, hash,
signature and key_id cleared)`, `signature = Ed25519(hash)`. The first event's `prev_hash` is
32 zero bytes. A verifier then sees a modified event (hash mismatch), a deleted or reordered
one (gap, broken link), a forged one (bad signature, unknown key) and duplicates.

Works on any protobuf message with the fields `sequence`, `prev_hash`, `hash`, `signature`,
`key_id` and `event_id` (consilium.audit.v1.AuditEvent), so it holds no domain types.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = bytes(32)
_CHAIN_FIELDS = ("prev_hash", "hash", "signature", "key_id")


def event_hash(event: Any, prev_hash: bytes) -> bytes:
    """The chain hash of `event` after `prev_hash` (the chain fields do not count)."""
    body = type(event)()
    body.CopyFrom(event)
    for name in _CHAIN_FIELDS:
        body.ClearField(name)
    return hashlib.sha256(prev_hash + body.SerializeToString(deterministic=True)).digest()


def link(
    event: Any, *, sequence: int, prev_hash: bytes, key: Ed25519PrivateKey, key_id: str
) -> bytes:
    """Fills `event`'s chain fields in place as the `sequence`-th event; returns its hash."""
    event.sequence = sequence
    digest = event_hash(event, prev_hash)
    event.prev_hash = prev_hash
    event.hash = digest
    event.signature = key.sign(digest)
    event.key_id = key_id
    return digest


@dataclass(frozen=True, slots=True)
class Problem:
    sequence: int
    event_id: str
    kind: str  # HASH_MISMATCH, BROKEN_LINK, BAD_SIGNATURE, UNKNOWN_KEY, DUPLICATE_SEQUENCE
    detail: str


@dataclass
class ChainVerdict:
    """One producer's chain: gaps (missing sequence ranges) and problems, in order."""

    event_count: int = 0
    last_sequence: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.gaps and not self.problems


def verify_chain(events: Iterable[Any], keys: Mapping[str, Ed25519PublicKey]) -> ChainVerdict:
    """Checks one producer's events (any order; they are sorted by sequence here)."""
    verdict = ChainVerdict()
    ordered = sorted(events, key=lambda e: e.sequence)
    previous: Any | None = None
    for event in ordered:
        verdict.event_count += 1
        sequence = int(event.sequence)
        if previous is not None and sequence == previous.sequence:
            verdict.problems.append(
                Problem(
                    sequence,
                    event.event_id,
                    "DUPLICATE_SEQUENCE",
                    f"event {sequence} appears more than once",
                )
            )
            continue
        expected = 1 if previous is None else int(previous.sequence) + 1
        if sequence > expected:
            verdict.gaps.append((expected, sequence - 1))
        if event_hash(event, bytes(event.prev_hash)) != bytes(event.hash):
            verdict.problems.append(
                Problem(
                    sequence,
                    event.event_id,
                    "HASH_MISMATCH",
                    f"event {sequence} does not hash to its stored hash: it was modified",
                )
            )
        contiguous = previous is not None and sequence == expected
        if sequence == 1 and bytes(event.prev_hash) != GENESIS:
            verdict.problems.append(
                Problem(
                    sequence,
                    event.event_id,
                    "BROKEN_LINK",
                    "the first event does not start the chain",
                )
            )
        elif contiguous and previous is not None and bytes(event.prev_hash) != bytes(previous.hash):
            verdict.problems.append(
                Problem(
                    sequence,
                    event.event_id,
                    "BROKEN_LINK",
                    f"prev_hash does not match event {previous.sequence}",
                )
            )
        public = keys.get(event.key_id)
        if public is None:
            verdict.problems.append(
                Problem(
                    sequence,
                    event.event_id,
                    "UNKNOWN_KEY",
                    f"signed by unknown key {event.key_id!r}",
                )
            )
        else:
            try:
                public.verify(bytes(event.signature), bytes(event.hash))
            except InvalidSignature:
                verdict.problems.append(
                    Problem(
                        sequence,
                        event.event_id,
                        "BAD_SIGNATURE",
                        f"the signature of event {sequence} does not verify",
                    )
                )
        previous = event
        verdict.last_sequence = sequence
    return verdict
