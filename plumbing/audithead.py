"""A producer's signed chain head: what it says, how it is signed, and how a verifier checks it.

A head is the producer's own statement "my chain holds `size` events and the last one hashes
to `head_hash`", signed with its audit key at `signed_at`. The ledger cannot forge one, so an
auditor holding the ledger's events against a head sees a tail dropped or an old state served.
The signed bytes are a short text any verifier can rebuild (see `statement`); they never
collide with an event's signature, which signs a 32-byte hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from consilium.audit.v1 import audit_pb2 as pb
from plumbing.auditchain import GENESIS
from plumbing.signingkeys import SigningKey
from plumbing.timestamps import set_timestamp

#: The first line of every signed head: names the format, so it is never read as anything else.
HEAD_CONTEXT = "consilium.audit.head/v1"


def statement(head: pb.SignedHead) -> bytes:
    """The bytes a head's signature covers."""
    at = head.signed_at
    lines = [
        HEAD_CONTEXT,
        head.producer,
        str(head.size),
        bytes(head.head_hash).hex(),
        f"{at.seconds}.{at.nanos:09d}",
    ]
    return ("\n".join(lines) + "\n").encode()


def sign_head(
    producer: str,
    size: int,
    head_hash: bytes,
    key: SigningKey,
    *,
    at: datetime | None = None,
) -> pb.SignedHead:
    """The head of `producer`'s chain of `size` events ending in `head_hash`, signed now."""
    head = pb.SignedHead(
        producer=producer,
        size=size,
        head_hash=head_hash if size else GENESIS,
        key_id=key.key_id,
    )
    set_timestamp(head.signed_at, at or datetime.now(UTC))
    head.signature = key.private_key.sign(statement(head))
    return head


def head_problem(head: pb.SignedHead, producer: str, keys: Mapping[str, Ed25519PublicKey]) -> str:
    """Why `head` is not `producer`'s signed head under `keys` (the keys the auditor accepts
    for that producer); empty when it is."""
    if head.producer != producer:
        return f"the head names producer {head.producer!r}, not {producer!r}"
    public = keys.get(head.key_id)
    if public is None:
        return f"the head is signed with key {head.key_id!r}, not one of {producer!r}'s keys"
    try:
        public.verify(bytes(head.signature), statement(head))
    except InvalidSignature:
        return "the head's signature does not verify"
    if len(head.head_hash) != len(GENESIS):
        return "the head's hash is not 32 bytes"
    return ""


def newest(heads: list[pb.SignedHead]) -> pb.SignedHead | None:
    """The head covering the most events (the latest signed among equals)."""
    if not heads:
        return None
    return max(heads, key=lambda h: (h.size, h.signed_at.ToNanoseconds()))
