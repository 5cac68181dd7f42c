"""Inclusion and consistency proofs as values an export can carry as JSON, and check.

    {"leaf_index": 5, "tree_size": 8, "hashes": ["<base64>", ...]}     inclusion
    {"old_size": 4, "new_size": 8, "hashes": ["<base64>", ...]}        consistency

Hashes are standard base64 like the root in a checkpoint, in RFC 9162 order (leaf side
first). Reading is strict: a missing key, a negative or boolean size, or a hash that is not
32 bytes is a ProofError naming it, so a tampered export fails loudly rather than oddly.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from plumbing.tlog.checkpoint import Checkpoint
from plumbing.tlog.merkle import (
    HASH_SIZE,
    MerkleTree,
    ProofError,
    verify_consistency,
    verify_inclusion,
)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """That the leaf at `leaf_index` is in the tree of `tree_size` leaves."""

    leaf_index: int
    tree_size: int
    hashes: tuple[bytes, ...]

    @classmethod
    def of(cls, tree: MerkleTree, leaf_index: int, tree_size: int | None = None) -> InclusionProof:
        size = tree.size if tree_size is None else tree_size
        return cls(leaf_index, size, tuple(tree.inclusion_proof(leaf_index, size)))

    def verify(self, leaf_hash: bytes, root_hash: bytes) -> None:
        """Raises ProofError unless `leaf_hash` is at `leaf_index` under `root_hash`."""
        verify_inclusion(self.leaf_index, self.tree_size, leaf_hash, self.hashes, root_hash)

    def verify_in(self, checkpoint: Checkpoint, leaf_hash: bytes) -> None:
        """As `verify`, against a checkpoint (already opened) of the same tree size."""
        if checkpoint.size != self.tree_size:
            raise ProofError(
                f"proof is for tree size {self.tree_size}, checkpoint is {checkpoint.size}"
            )
        self.verify(leaf_hash, checkpoint.root_hash)

    def to_json(self) -> dict[str, Any]:
        return {
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "hashes": _encode(self.hashes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InclusionProof:
        return cls(_size(data, "leaf_index"), _size(data, "tree_size"), _decode(data, "inclusion"))


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """That the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves."""

    old_size: int
    new_size: int
    hashes: tuple[bytes, ...]

    @classmethod
    def of(cls, tree: MerkleTree, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        size = tree.size if new_size is None else new_size
        return cls(old_size, size, tuple(tree.consistency_proof(old_size, size)))

    def verify(self, old_root: bytes, new_root: bytes) -> None:
        """Raises ProofError unless the two roots are of one append-only log."""
        verify_consistency(self.old_size, self.new_size, self.hashes, old_root, new_root)

    def verify_between(self, old: Checkpoint, new: Checkpoint) -> None:
        """As `verify`, between two checkpoints (already opened) of these sizes and one origin."""
        if old.origin != new.origin:
            raise ProofError(f"checkpoints of two logs: {old.origin!r} and {new.origin!r}")
        if (old.size, new.size) != (self.old_size, self.new_size):
            raise ProofError(
                f"proof is for sizes {self.old_size}->{self.new_size}, "
                f"checkpoints are {old.size}->{new.size}"
            )
        self.verify(old.root_hash, new.root_hash)

    def to_json(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "hashes": _encode(self.hashes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConsistencyProof:
        return cls(_size(data, "old_size"), _size(data, "new_size"), _decode(data, "consistency"))


def _encode(hashes: tuple[bytes, ...]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _size(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    # bool is an int in Python; `true` must not pass for a size of 1.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError(f"proof field {key!r} must be a non-negative integer")
    return value


def _decode(data: Mapping[str, Any], kind: str) -> tuple[bytes, ...]:
    items = data.get("hashes")
    if not isinstance(items, list):
        raise ProofError(f"{kind} proof field 'hashes' must be a list")
    hashes = []
    for position, item in enumerate(items):
        try:
            digest = base64.b64decode(item, validate=True) if isinstance(item, str) else b""
        except binascii.Error:
            digest = b""
        if len(digest) != HASH_SIZE:
            raise ProofError(f"{kind} proof hash {position} is not a base64 SHA-256 hash")
        hashes.append(digest)
    return tuple(hashes)
