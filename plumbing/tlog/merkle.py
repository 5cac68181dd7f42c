"""RFC 6962 / RFC 9162 Merkle trees: hashing, roots, inclusion and consistency proofs, verifiers.

Leaves are hashed as SHA-256(0x00 || data) and interior nodes as SHA-256(0x01 || left || right),
so a leaf can never pass for a node (the second-preimage defence of RFC 6962 section 2.1).
`MerkleTree` keeps every complete (power-of-two, aligned) subtree hash, 2n hashes for n
leaves: appending is amortised O(1) and a root or proof for any earlier size costs O(log² n)
hashes, which is what a ledger serving proofs for 100k events needs. The verifiers are the
RFC 9162 section 2.1.3.2 and 2.1.4.2 algorithms and take only hashes, so an auditor can run
them without the tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162: the hash of an empty tree


class ProofError(ValueError):
    """A proof that does not verify, or a request for a proof that cannot exist."""


def leaf_hash(data: bytes) -> bytes:
    """The RFC 6962 hash of one leaf's data."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 hash of an interior node from its children's hashes."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below `n` (n >= 2): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only RFC 6962 tree over leaf hashes, able to prove any size it has held."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        # _levels[h][i] is the hash of the complete subtree of 2**h leaves starting at i * 2**h.
        self._levels: list[list[bytes]] = [[]]
        for digest in leaf_hashes:
            self.append(digest)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, digest: bytes) -> int:
        """Adds a leaf by its hash (see `leaf_hash`); returns its index."""
        if len(digest) != HASH_SIZE:
            raise ValueError(f"a leaf hash has {HASH_SIZE} bytes, got {len(digest)}")
        index = self.size
        self._levels[0].append(digest)
        level, position = 0, index
        while position % 2 == 1:  # this append completed a subtree one level up
            row = self._levels[level]
            parent = node_hash(row[position - 1], row[position])
            level, position = level + 1, position // 2
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(parent)
        return index

    def leaf(self, index: int) -> bytes:
        """The leaf hash at `index`."""
        self._check_size(index + 1, "leaf index")
        return self._levels[0][index]

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first `size` leaves (default: all of them)."""
        size = self.size if size is None else size
        self._check_size(size, "tree size")
        return self._range_hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf `index` in the tree of the first `size` leaves, leaf first."""
        size = self.size if size is None else size
        self._check_size(size, "tree size")
        if not 0 <= index < size:
            raise ProofError(f"leaf index {index} is outside a tree of size {size}")
        proof: list[bytes] = []
        start, end = 0, size
        # RFC 6962 PATH(m, D[n]) walked from the root down; siblings are collected top-down
        # and reversed, because the proof lists them from the leaf up.
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                proof.append(self._range_hash(start + k, end))
                end = start + k
            else:
                proof.append(self._range_hash(start, start + k))
                start += k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The RFC 6962 proof that the tree of `old_size` leaves is a prefix of `new_size`'s."""
        new_size = self.size if new_size is None else new_size
        self._check_size(new_size, "tree size")
        if not 0 <= old_size <= new_size:
            raise ProofError(f"no consistency proof from size {old_size} to {new_size}")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        # RFC 6962 SUBPROOF(m, D[start:end], b), iteratively; collected top-down, then reversed.
        m, start, end, complete = old_size, 0, new_size, True
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                proof.append(self._range_hash(start + k, end))
                end = start + k
            else:
                proof.append(self._range_hash(start, start + k))
                m, start, complete = m - k, start + k, False
        if not complete:
            proof.append(self._range_hash(start, end))
        proof.reverse()
        return proof

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a non-empty range of this tree, from the stored subtrees."""
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            return self._levels[width.bit_length() - 1][start // width]
        k = _split(width)
        return node_hash(self._range_hash(start, start + k), self._range_hash(start + k, end))

    def _check_size(self, size: int, what: str) -> None:
        if not 0 <= size <= self.size:
            raise ProofError(f"{what} {size} is beyond the {self.size} leaves this tree holds")


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """The root hash of a tree over `leaf_hashes`."""
    return MerkleTree(leaf_hashes).root()


def _check_hash(digest: bytes, what: str) -> None:
    if len(digest) != HASH_SIZE:
        raise ProofError(f"{what} has {len(digest)} bytes, expected {HASH_SIZE}")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` implies for leaf hash `leaf` at `index` in a tree of `size`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf, "the leaf hash")
    # RFC 9162 section 2.1.3.2.
    fn, sn, r = index, size - 1, leaf
    for position, p in enumerate(proof):
        _check_hash(p, f"inclusion proof hash {position}")
        if sn == 0:
            raise ProofError(f"inclusion proof has {len(proof)} hashes, too many for size {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, too few for size {size}")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raises ProofError unless `proof` shows leaf hash `leaf` at `index` under `root`."""
    _check_hash(root, "the root hash")
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """Raises ProofError unless `proof` shows the `old_size` tree is a prefix of `new_size`'s."""
    _check_hash(old_root, "the old root hash")
    _check_hash(new_root, "the new root hash")
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same size {old_size}")
        return
    if old_size == 0:  # the empty tree is a prefix of every tree
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError(f"empty consistency proof from size {old_size} to {new_size}")
    for position, p in enumerate(proof):
        _check_hash(p, f"consistency proof hash {position}")
    # RFC 9162 section 2.1.4.2.
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a complete subtree of the new one
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof has too many hashes")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof has too few hashes")
    if fr != old_root:
        raise ProofError(f"consistency proof does not lead to the old root (size {old_size})")
    if sr != new_root:
        raise ProofError(f"consistency proof does not lead to the new root (size {new_size})")
