"""plumbing.tlog.merkle property tests: against RFC 6962's recursive definitions, and tampering."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plumbing.tlog import (
    MerkleTree,
    ProofError,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

quick = settings(max_examples=150, deadline=None, database=None)


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


# RFC 6962 section 2.1, written as the RFC writes it: the reference the tree must agree with.
def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return node_hash(_mth(d[:k]), _mth(d[k:]))


def _path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*_path(m, d[:k]), _mth(d[k:])]
    return [*_path(m - k, d[k:]), _mth(d[:k])]


def _subproof(m: int, d: list[bytes], complete: bool) -> list[bytes]:
    if m == len(d):
        return [] if complete else [_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*_subproof(m, d[:k], complete), _mth(d[k:])]
    return [*_subproof(m - k, d[k:], False), _mth(d[:k])]


sizes = st.integers(min_value=1, max_value=70)


@quick
@given(st.data(), sizes)
def test_tree_agrees_with_the_rfc_definitions(data: st.DataObject, n: int) -> None:
    leaves = _leaves(n)
    tree = MerkleTree(leaves)
    size = data.draw(st.integers(min_value=1, max_value=n), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    old = data.draw(st.integers(min_value=1, max_value=size), label="old")
    assert tree.root(size) == _mth(leaves[:size])
    assert tree.inclusion_proof(index, size) == _path(index, leaves[:size])
    assert tree.consistency_proof(old, size) == (
        _subproof(old, leaves[:size], True) if old < size else []
    )


@quick
@given(st.data(), sizes)
def test_every_inclusion_proof_verifies_and_any_flipped_bit_fails(
    data: st.DataObject, n: int
) -> None:
    tree = MerkleTree(_leaves(n))
    index = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    proof, root, leaf = tree.inclusion_proof(index), tree.root(), tree.leaf(index)
    verify_inclusion(index, n, leaf, proof, root)

    # Flip one bit anywhere in the leaf, the root or a proof hash.
    blobs = [leaf, root, *proof]
    which = data.draw(st.integers(min_value=0, max_value=len(blobs) - 1), label="which")
    byte = data.draw(st.integers(min_value=0, max_value=31), label="byte")
    bit = data.draw(st.integers(min_value=0, max_value=7), label="bit")
    tampered = bytearray(blobs[which])
    tampered[byte] ^= 1 << bit
    blobs[which] = bytes(tampered)
    with pytest.raises(ProofError):
        verify_inclusion(index, n, blobs[0], blobs[2:], blobs[1])

    other = data.draw(st.integers(min_value=0, max_value=n - 1), label="other index")
    if other != index:  # the same path cannot prove the leaf somewhere else
        with pytest.raises(ProofError):
            verify_inclusion(other, n, leaf, proof, root)


@quick
@given(st.data(), st.integers(min_value=2, max_value=70))
def test_every_consistency_proof_verifies_and_any_flipped_bit_fails(
    data: st.DataObject, n: int
) -> None:
    tree = MerkleTree(_leaves(n))
    old = data.draw(st.integers(min_value=1, max_value=n - 1), label="old")
    proof, old_root, new_root = tree.consistency_proof(old), tree.root(old), tree.root()
    verify_consistency(old, n, proof, old_root, new_root)

    blobs = [old_root, new_root, *proof]
    which = data.draw(st.integers(min_value=0, max_value=len(blobs) - 1), label="which")
    byte = data.draw(st.integers(min_value=0, max_value=31), label="byte")
    bit = data.draw(st.integers(min_value=0, max_value=7), label="bit")
    tampered = bytearray(blobs[which])
    tampered[byte] ^= 1 << bit
    blobs[which] = bytes(tampered)
    with pytest.raises(ProofError):
        verify_consistency(old, n, blobs[2:], blobs[0], blobs[1])


@quick
@given(st.data(), st.integers(min_value=2, max_value=70))
def test_a_rewritten_history_has_no_consistency_proof(data: st.DataObject, n: int) -> None:
    # A ledger that edits an old leaf and re-grows the tree cannot prove the old root a prefix.
    leaves = _leaves(n)
    old = data.draw(st.integers(min_value=1, max_value=n - 1), label="old")
    edited = data.draw(st.integers(min_value=0, max_value=old - 1), label="edited")
    honest = MerkleTree(leaves)
    forged_leaves = list(leaves)
    forged_leaves[edited] = leaf_hash(b"forged")
    forged = MerkleTree(forged_leaves)
    with pytest.raises(ProofError):
        verify_consistency(old, n, forged.consistency_proof(old), honest.root(old), forged.root())


def test_appending_keeps_earlier_roots_and_proofs() -> None:
    leaves = _leaves(37)
    tree = MerkleTree()
    roots: list[bytes] = []
    for digest in leaves:
        assert tree.append(digest) == len(roots)
        roots.append(tree.root())
    for size in range(1, 38):
        assert tree.root(size) == roots[size - 1]
        verify_consistency(size, 37, tree.consistency_proof(size), roots[size - 1], tree.root())


def test_a_leaf_hash_is_not_a_node_hash() -> None:
    # Second-preimage defence: 64 bytes of two child hashes as one leaf give another hash.
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert leaf_hash(a + b) != node_hash(a, b)


def test_append_refuses_what_is_not_a_hash() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleTree().append(b"short")


def test_a_large_tree_proves_in_logarithmic_hashes() -> None:
    tree = MerkleTree(_leaves(100_000))
    root = tree.root()
    for index in (0, 1, 65_535, 65_536, 99_999):
        proof = tree.inclusion_proof(index)
        assert len(proof) <= 17
        verify_inclusion(index, tree.size, tree.leaf(index), proof, root)
    proof = tree.consistency_proof(70_001)
    verify_consistency(70_001, 100_000, proof, tree.root(70_001), root)
