"""Hash chains and signatures for audit events: the producer links and signs, the ledger verifies.

Each producer numbers its events 1, 2, 3... and links each to the previous one:
`hash = SHA-256(prev_hash || deterministic protobuf bytes of the event with prev_hash, hash,
signature and key_id cleared)`, `signature = Ed25519(hash)`. The first event's `prev_hash` is
32 zero bytes. A verifier then sees a modified event (hash mismatch), a deleted or reordered
one (gap, broken link), a forged one (bad signature, unknown key) and duplicates.

Keys rotate only through the chain: an event with `action` KEY_ROTATED, signed with the key
the chain is signed with so far, carries the new public key (`new_public_key`), and every later
event must be signed with it. The chain's first key comes from the verifier (pinned); a key
that changes without such an event is KEY_NOT_ROTATED, a rotation not signed by the chain's
key is BAD_ROTATION, and its key is never accepted.

Works on any protobuf message with the fields `sequence`, `prev_hash`, `hash`, `signature`,
`key_id`, `event_id`, `action` and `new_public_key` (consilium.audit.v1.AuditEvent), so it
holds no domain types.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from plumbing.auth.jwk import key_id

GENESIS = bytes(32)
#: consilium.audit.v1.Action.ACTION_KEY_ROTATED: a number here, so this module needs no proto.
KEY_ROTATED = 30
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
    # HASH_MISMATCH, BROKEN_LINK, BAD_SIGNATURE, UNKNOWN_KEY, DUPLICATE_SEQUENCE,
    # KEY_NOT_ROTATED, BAD_ROTATION
    kind: str
    detail: str


@dataclass
class ChainVerdict:
    """One producer's chain: gaps (missing sequence ranges) and problems, in order."""

    event_count: int = 0
    last_sequence: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: Keys the chain itself introduced by valid KEY_ROTATED events, by key id.
    rotated_keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    #: The key id the chain is signed with at its end ("" for an empty chain).
    current_key: str = ""

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
        verdict.problems.extend(_signature_problems(event, keys, verdict))
        previous = event
        verdict.last_sequence = sequence
    return verdict


def _signature_problems(
    event: Any, keys: Mapping[str, Ed25519PublicKey], verdict: ChainVerdict
) -> list[Problem]:
    """The event's signature, by the chain's current key; a valid rotation moves that key."""
    sequence, kid = int(event.sequence), str(event.key_id)
    rotation = int(event.action) == KEY_ROTATED
    known = kid in verdict.rotated_keys or kid in keys
    if verdict.current_key and kid != verdict.current_key and known:
        kind = "BAD_ROTATION" if rotation else "KEY_NOT_ROTATED"
        what = "its new key is not accepted" if rotation else "no KEY_ROTATED event names it"
        return [
            Problem(
                sequence,
                event.event_id,
                kind,
                f"event {sequence} is signed with key {kid!r}, but the chain is signed with "
                f"{verdict.current_key!r} there: {what}",
            )
        ]
    public = verdict.rotated_keys.get(kid) or keys.get(kid)
    if public is None:
        return [Problem(sequence, event.event_id, "UNKNOWN_KEY", f"signed by unknown key {kid!r}")]
    try:
        public.verify(bytes(event.signature), bytes(event.hash))
    except InvalidSignature:
        kind = "BAD_ROTATION" if rotation else "BAD_SIGNATURE"
        return [
            Problem(
                sequence,
                event.event_id,
                kind,
                f"the signature of event {sequence} does not verify",
            )
        ]
    verdict.current_key = kid
    if not rotation:
        return []
    if event_hash(event, bytes(event.prev_hash)) != bytes(event.hash):
        return []  # named as modified already; a modified rotation admits no key
    try:
        new = Ed25519PublicKey.from_public_bytes(bytes(event.new_public_key))
    except ValueError:
        return [
            Problem(
                sequence,
                event.event_id,
                "BAD_ROTATION",
                f"KEY_ROTATED event {sequence} carries no valid Ed25519 public key",
            )
        ]
    new_kid = key_id(new)
    verdict.rotated_keys[new_kid] = new
    verdict.current_key = new_kid
    return []
