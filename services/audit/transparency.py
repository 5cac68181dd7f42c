"""The ledger's transparency log (A2): a Merkle tree per producer over its verified events,
signed checkpoints, and inclusion and consistency proofs.

Leaf `i` of producer P's log is event `i + 1` of P's chain, and its leaf data is the event's
canonical bytes: the deterministic protobuf encoding of the whole signed `AuditEvent` (hash,
signature and key id included), exactly what the ledger stores and serves. So a checkpoint
pins not only what happened but which key signed it, and an auditor hashes what they received
with no re-encoding rule but protobuf's. An event enters the log only in sequence order and
only when it verified: its hash recomputes, it links to the previous leaf's event, and its
signature verifies under the chain's key: pinned to its producer, or named by a KEY_ROTATED
event the log holds (signed with the key before it). The first event that fails stops the
log there (verification names the fault), so the log never holds an unverified event.

Checkpoints follow C2SP tlog-checkpoint with origin `consilium.audit/<producer>`, signed by
the ledger's own key; one is signed whenever the log grew, on demand and at a fixed cadence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from plumbing.auditchain import GENESIS, KEY_ROTATED, event_hash
from plumbing.auth.jwk import key_id
from plumbing.errors import NotFound
from plumbing.tlog import (
    Checkpoint,
    ConsistencyProof,
    InclusionProof,
    MerkleTree,
    NoteSigner,
    leaf_hash,
    sign_checkpoint,
)
from services.audit.domain.producers import ProducerPins

log = logging.getLogger("consilium.audit")

ORIGIN_PREFIX = "consilium.audit"
#: How many events one pass of `advance` reads at a time.
_BATCH = 500


def origin_of(producer: str) -> str:
    return f"{ORIGIN_PREFIX}/{producer}"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored: its canonical bytes and the decoded message."""

    data: bytes
    event: Any


@dataclass(frozen=True, slots=True)
class Leaf:
    event_id: str
    leaf_hash: bytes
    chain_hash: bytes


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str


class LogStore(Protocol):
    """Where leaves and checkpoints persist, and the ledger's events by sequence."""

    async def leaves(self, producer: str) -> list[Leaf]: ...

    async def add_leaves(self, producer: str, start: int, leaves: Sequence[Leaf]) -> None: ...

    async def events_after(self, producer: str, sequence: int, limit: int) -> list[StoredEvent]:
        """The producer's stored events with a higher sequence, ascending."""

    async def locate(self, event_id: str) -> tuple[str, int] | None:
        """(producer, sequence) of a stored event."""

    async def rotations(self, producer: str) -> list[StoredEvent]:
        """The producer's stored KEY_ROTATED events, ascending (found by the index, each
        then held to the leaf the log holds at its place)."""

    async def newest_checkpoint(self, producer: str) -> SignedCheckpoint | None: ...

    async def checkpoint_note(self, producer: str, size: int) -> str | None: ...

    async def add_checkpoint(self, producer: str, signed: SignedCheckpoint) -> None: ...

    async def producers(self) -> list[str]:
        """Every producer with a stored event."""

    async def conflicts(self, producer: str) -> list[Any]:
        """Events that claimed a sequence another event held."""


class ProducerKeys(Protocol):
    async def keys(self, key_ids: Any) -> Mapping[str, Ed25519PublicKey]: ...


@dataclass
class _Log:
    tree: MerkleTree
    last_chain_hash: bytes
    #: The key the chain is signed with after the last leaf ("" while the log is empty).
    current_key: str = ""
    #: Keys KEY_ROTATED events in the log introduced, by key id.
    rotated: dict[str, Ed25519PublicKey] = field(default_factory=dict)


class TransparencyLog:
    """Grows each producer's tree from verified events; signs checkpoints; serves proofs."""

    def __init__(
        self, store: LogStore, keys: ProducerKeys, pins: ProducerPins, signer: NoteSigner
    ) -> None:
        self._store = store
        self._keys = keys
        self._pins = pins
        self._signer = signer
        self._logs: dict[str, _Log] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        # Signing has its own lock: `advance` takes the log lock, and asyncio locks are not
        # reentrant. Without it two readers of a grown log both sign and store the same size.
        self._signing: dict[str, asyncio.Lock] = {}

    @property
    def verifier_key(self) -> str:
        return self._signer.verifier.vkey

    async def size(self, producer: str) -> int:
        return (await self._log(producer)).tree.size

    async def events(self, producer: str, after: int, limit: int) -> list[StoredEvent]:
        """Stored events (judged or not) by sequence, for auditors' own verification."""
        return await self._store.events_after(producer, after, limit)

    async def conflicts(self, producer: str) -> list[Any]:
        return await self._store.conflicts(producer)

    async def leaf_hashes(self, producer: str) -> list[bytes]:
        tree = (await self._log(producer)).tree
        return [tree.leaf(i) for i in range(tree.size)]

    async def newest_size(self, producer: str) -> int:
        """The size of the newest checkpoint the ledger signed (0 if none)."""
        newest = await self._store.newest_checkpoint(producer)
        return newest.checkpoint.size if newest is not None else 0

    async def _log(self, producer: str) -> _Log:
        if producer not in self._logs:
            leaves = await self._store.leaves(producer)
            tree = MerkleTree(leaf.leaf_hash for leaf in leaves)
            state = _Log(tree, leaves[-1].chain_hash if leaves else GENESIS)
            await self._restore_keys(producer, state)
            self._logs[producer] = state
            newest = await self._store.newest_checkpoint(producer)
            if newest is not None and (
                newest.checkpoint.size > tree.size
                or tree.root(newest.checkpoint.size) != newest.checkpoint.root_hash
            ):
                log.error("audit: %s log leaves disagree with its newest checkpoint", producer)
        return self._logs[producer]

    async def _restore_keys(self, producer: str, state: _Log) -> None:
        """The chain's key at the log's end, from the rotations the log holds."""
        size = state.tree.size
        if not size:
            return
        for stored in await self._store.rotations(producer):
            sequence = int(stored.event.sequence)
            # Only a rotation whose exact bytes are the leaf at its place counts.
            if sequence <= size and state.tree.leaf(sequence - 1) == leaf_hash(stored.data):
                _key_after(stored.event, state.rotated)
        for last in await self._store.events_after(producer, size - 1, 1):
            state.current_key = _key_after(last.event, state.rotated)

    async def advance(self, producer: str) -> int:
        """Appends the producer's newly verified events to its log; returns the log size."""
        async with self._locks.setdefault(producer, asyncio.Lock()):
            state = await self._log(producer)
            while True:
                batch = await self._store.events_after(producer, state.tree.size, _BATCH)
                accepted: list[Leaf] = []
                last = state.last_chain_hash
                current, rotated = state.current_key, dict(state.rotated)
                for stored in batch:
                    expected = state.tree.size + len(accepted) + 1
                    event = stored.event
                    public = await self._signer_of(producer, event, current, rotated)
                    if public is None or not _verified(event, expected, last, public):
                        break
                    current = _key_after(event, rotated)
                    last = bytes(event.hash)
                    accepted.append(Leaf(event.event_id, leaf_hash(stored.data), last))
                if accepted:
                    try:
                        await self._store.add_leaves(producer, state.tree.size, accepted)
                    except Exception:
                        self._logs.pop(producer, None)  # another writer: reload next time
                        raise
                    for leaf in accepted:
                        state.tree.append(leaf.leaf_hash)
                    state.last_chain_hash = last
                    state.current_key, state.rotated = current, rotated
                if len(accepted) < _BATCH:
                    return state.tree.size

    async def _signer_of(
        self, producer: str, event: Any, current: str, rotated: Mapping[str, Ed25519PublicKey]
    ) -> Ed25519PublicKey | None:
        """The public key `event` must verify under: the chain's current key, or for the
        first event a key pinned to the producer; None when it names another key."""
        kid = str(event.key_id)
        if current and kid != current:
            return None
        if not current and not self._pins.allows(producer, kid):
            return None
        return rotated.get(kid) or (await self._keys.keys({kid})).get(kid)

    async def checkpoint(self, producer: str) -> SignedCheckpoint:
        """The newest checkpoint, signed now if the log grew since the last one."""
        async with self._signing.setdefault(producer, asyncio.Lock()):
            size = await self.advance(producer)
            newest = await self._store.newest_checkpoint(producer)
            if newest is not None and newest.checkpoint.size == size:
                return newest
            state = await self._log(producer)
            checkpoint = Checkpoint(origin_of(producer), size, state.tree.root(size))
            signed = SignedCheckpoint(checkpoint, sign_checkpoint(checkpoint, self._signer))
            # Empty logs of names nobody configured are answered, not stored: an auditor's
            # typo must not leave rows behind.
            worth_keeping = size > 0 or producer in self._pins.pins
            if worth_keeping and (newest is None or newest.checkpoint.size < size):
                await self._store.add_checkpoint(producer, signed)
            return signed

    async def checkpoint_all(self) -> dict[str, SignedCheckpoint]:
        """A fresh checkpoint for every producer configured or seen (the cadence's work)."""
        producers = sorted(set(self._pins.producers) | set(await self._store.producers()))
        return {p: await self.checkpoint(p) for p in producers}

    async def run(self, interval: float) -> None:
        """Signs checkpoints every `interval` seconds until cancelled."""
        while True:
            try:
                await self.checkpoint_all()
            except Exception:  # the next round tries again; the ledger keeps serving
                log.exception("audit: signing checkpoints failed")
            await asyncio.sleep(interval)

    async def _size_or_newest(self, producer: str, size: int) -> tuple[int, str]:
        if size == 0:
            signed = await self.checkpoint(producer)
            return signed.checkpoint.size, signed.note
        state = await self._log(producer)
        if size > state.tree.size:
            raise NotFound(f"the {producer} log has {state.tree.size} events, not {size}")
        return size, await self._store.checkpoint_note(producer, size) or ""

    async def inclusion(
        self, *, event_id: str, producer: str, sequence: int, tree_size: int
    ) -> tuple[str, int, InclusionProof, str]:
        """(producer, sequence, proof, checkpoint note or "") of one event in a log size."""
        if event_id:
            located = await self._store.locate(event_id)
            if located is None:
                raise NotFound("no such audit event")
            producer, sequence = located
        if not producer or sequence < 1:
            raise NotFound("name an event by id, or by producer and sequence")
        size, note = await self._size_or_newest(producer, tree_size)
        if sequence > size:
            raise NotFound(f"{producer} event {sequence} is not in the log of size {size}")
        state = await self._log(producer)
        return producer, sequence, InclusionProof.of(state.tree, sequence - 1, size), note

    async def batch_inclusion(
        self, event_ids: Sequence[str]
    ) -> tuple[list[tuple[str, str, InclusionProof]], dict[str, str]]:
        """(event id, producer, proof) for each event in its producer's newest checkpoint,
        in the order asked, and those checkpoints' notes by producer."""
        proofs: list[tuple[str, str, InclusionProof]] = []
        notes: dict[str, str] = {}
        sizes: dict[str, int] = {}
        for event_id in event_ids:
            located = await self._store.locate(event_id)
            if located is None:
                continue
            producer, sequence = located
            if producer not in sizes:
                signed = await self.checkpoint(producer)
                sizes[producer], notes[producer] = signed.checkpoint.size, signed.note
            if sequence <= sizes[producer]:
                tree = (await self._log(producer)).tree
                proof = InclusionProof.of(tree, sequence - 1, sizes[producer])
                proofs.append((event_id, producer, proof))
        return proofs, {p: notes[p] for p in sorted({p for _, p, _ in proofs})}

    async def consistency(
        self, producer: str, old_size: int, new_size: int
    ) -> tuple[ConsistencyProof, str]:
        size, note = await self._size_or_newest(producer, new_size)
        if old_size > size:
            raise NotFound(f"the {producer} log is smaller ({size}) than {old_size}")
        state = await self._log(producer)
        return ConsistencyProof.of(state.tree, old_size, size), note


def _verified(event: Any, sequence: int, prev: bytes, public: Ed25519PublicKey) -> bool:
    if int(event.sequence) != sequence or bytes(event.prev_hash) != prev:
        return False
    if event_hash(event, prev) != bytes(event.hash):
        return False
    try:
        public.verify(bytes(event.signature), bytes(event.hash))
    except InvalidSignature:
        return False
    return True


def _key_after(event: Any, rotated: dict[str, Ed25519PublicKey]) -> str:
    """The chain's key after `event` (verified): its own, or the new one a rotation names,
    which is added to `rotated`."""
    if int(event.action) != KEY_ROTATED:
        return str(event.key_id)
    try:
        new = Ed25519PublicKey.from_public_bytes(bytes(event.new_public_key))
    except ValueError:
        return str(event.key_id)
    rotated[key_id(new)] = new
    return key_id(new)
