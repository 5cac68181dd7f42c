"""plumbing.tlog.merkle against the RFC 6962 reference vectors of the CT/transparency-dev code.

Vectors copied from github.com/transparency-dev/merkle: `testonly/constants.go` (LeafInputs,
NodeHashes, RootHashes, EmptyRootHash) and `proof/verify_test.go` (inclusionProofs with 1-based
leaf numbers, consistencyProofs), the same data as google/certificate-transparency's
merkle_tree_test.cc.
"""

from __future__ import annotations

import pytest

from plumbing.tlog import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]

# RootHashes(): index = tree size.
ROOTS = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# NodeHashes()[0]: the leaf hashes.
LEAF_HASHES = [
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
    h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
    h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
    h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
    h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
    h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
]

# inclusionProofs: (1-based leaf number, tree size, audit path).
INCLUSION = [
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (3, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        2,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (1, 1, []),
]

# consistencyProofs: (old size, new size, proof).
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

TREE = MerkleTree(leaf_hash(data) for data in LEAF_INPUTS)


def test_leaf_hashes_match_the_reference() -> None:
    assert [leaf_hash(data) for data in LEAF_INPUTS] == LEAF_HASHES


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_root_of_every_size_matches_the_reference(size: int) -> None:
    assert TREE.root(size) == ROOTS[size]
    assert root_hash(LEAF_HASHES[:size]) == ROOTS[size]
    assert MerkleTree(LEAF_HASHES[:size]).root() == ROOTS[size]


def test_empty_root_is_sha256_of_nothing() -> None:
    assert ROOTS[0] == EMPTY_ROOT


@pytest.mark.parametrize(("leaf", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_and_verify(leaf: int, size: int, path: list[bytes]) -> None:
    assert TREE.inclusion_proof(leaf - 1, size) == path
    verify_inclusion(leaf - 1, size, LEAF_HASHES[leaf - 1], path, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proofs_match_and_verify(old: int, new: int, path: list[bytes]) -> None:
    assert TREE.consistency_proof(old, new) == path
    verify_consistency(old, new, path, ROOTS[old], ROOTS[new])


# The corruptions of verify_test.go's corruptInclusionProof / corruptConsistencyProof.
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


@pytest.mark.parametrize(("leaf", "size", "path"), INCLUSION[:4])
def test_corrupted_inclusion_proofs_fail(leaf: int, size: int, path: list[bytes]) -> None:
    index, root, good = leaf - 1, ROOTS[size], LEAF_HASHES[leaf - 1]
    probes = [
        (index - 1, size, good, path, root),
        (index + 1, size, good, path, root),
        (index ^ 2, size, good, path, root),
        (index, size * 2, good, path, root),
        (index, size // 2, good, path, root),
        (index, size, SOME_HASH, path, root),
        (index, size, good, path, EMPTY_ROOT),
        (index, size, good, path, SOME_HASH),
        (index, size, good, [*path, root], root),
        (index, size, good, [root, *path], root),
        (index, size, good, path[:-1], root),
        (index, size, good, [path[0], SOME_HASH, *path[1:]], root),
    ]
    for position in range(len(path)):
        flipped = bytearray(path[position])
        flipped[0] ^= 8
        probes.append(
            (index, size, good, [*path[:position], bytes(flipped), *path[position + 1 :]], root)
        )
    for probe in probes:
        with pytest.raises(ProofError):
            verify_inclusion(*probe)


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY[1:])
def test_corrupted_consistency_proofs_fail(old: int, new: int, path: list[bytes]) -> None:
    r1, r2 = ROOTS[old], ROOTS[new]
    probes = [
        (old - 1, new, path, r1, r2),
        (old + 1, new, path, r1, r2),
        (old ^ 2, new, path, r1, r2),
        (old, new * 2, path, r1, r2),
        (old, new // 2, path, r1, r2),
        (old, new, path, SOME_HASH, r2),
        (old, new, path, r1, SOME_HASH),
        (old, new, path, r2, r1),
        (old, new, [], r1, r2),
        (old, new, [*path, r1], r1, r2),
        (old, new, [*path, r2], r1, r2),
        (old, new, [r1, *path], r1, r2),
        (old, new, [r2, *path], r1, r2),
        (old, new, [path[0], *path], r1, r2),
        (old, new, path[:-1], r1, r2),
    ]
    for position in range(len(path)):
        flipped = bytearray(path[position])
        flipped[0] ^= 16
        probes.append((old, new, [*path[:position], bytes(flipped), *path[position + 1 :]], r1, r2))
    for probe in probes:
        with pytest.raises(ProofError):
            verify_consistency(*probe)


def test_edge_sizes_follow_the_reference_rules() -> None:
    # TestVerifyConsistency's table: sizes that are always consistent, and those never.
    verify_consistency(0, 0, [], SOME_HASH, SOME_HASH)
    verify_consistency(0, 1, [], SOME_HASH, EMPTY_ROOT)
    verify_consistency(1, 1, [], EMPTY_ROOT, EMPTY_ROOT)
    for probe in [
        (0, 0, [], SOME_HASH, EMPTY_ROOT),
        (1, 1, [], SOME_HASH, EMPTY_ROOT),
        (1, 0, [], SOME_HASH, EMPTY_ROOT),
        (2, 1, [], SOME_HASH, EMPTY_ROOT),
        (1, 2, [], SOME_HASH, EMPTY_ROOT),
        (0, 0, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT),
        (0, 1, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT),
        (1, 1, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT),
    ]:
        with pytest.raises(ProofError):
            verify_consistency(*probe)
    # TestVerifyInclusion: no leaf is in an empty tree; a one-leaf tree's root is its leaf.
    for index, size in [(0, 0), (1, 0), (2, 1)]:
        with pytest.raises(ProofError):
            verify_inclusion(index, size, SOME_HASH, [], EMPTY_ROOT)
    verify_inclusion(0, 1, SOME_HASH, [], SOME_HASH)
    with pytest.raises(ProofError):
        verify_inclusion(0, 1, b"", [], b"")  # wrong hash size


def test_proofs_beyond_the_tree_are_refused() -> None:
    with pytest.raises(ProofError, match="beyond"):
        TREE.inclusion_proof(0, 9)
    with pytest.raises(ProofError, match="outside"):
        TREE.inclusion_proof(8, 8)
    with pytest.raises(ProofError, match="no consistency proof"):
        TREE.consistency_proof(5, 4)
