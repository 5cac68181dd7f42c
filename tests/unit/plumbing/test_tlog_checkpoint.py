"""plumbing.tlog checkpoints and JSON proofs: what an auditor holding a vkey can and cannot trust."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from plumbing.tlog import (
    Checkpoint,
    ConsistencyProof,
    InclusionProof,
    MerkleTree,
    NoteError,
    NoteSigner,
    NoteVerifier,
    ProofError,
    leaf_hash,
    open_checkpoint,
    sign_checkpoint,
    sign_note,
)

ORIGIN = "consilium.example/audit/identity"
LOG = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
WITNESS = NoteSigner("witness.example", Ed25519PrivateKey.generate())
TREE = MerkleTree(leaf_hash(b"event %d" % i) for i in range(21))


def _checkpoint(size: int = 21) -> Checkpoint:
    return Checkpoint(ORIGIN, size, TREE.root(size))


def test_body_is_the_c2sp_layout() -> None:
    root = base64.b64encode(TREE.root()).decode()
    assert _checkpoint().body() == f"{ORIGIN}\n21\n{root}\n"
    with_ext = Checkpoint(ORIGIN, 21, TREE.root(), ("timestamp 1764400000",))
    assert with_ext.body().endswith(f"{root}\ntimestamp 1764400000\n")
    assert Checkpoint.parse(with_ext.body()) == with_ext


def test_signed_checkpoint_opens_with_the_log_key() -> None:
    note = sign_checkpoint(_checkpoint(), LOG, WITNESS)
    opened, signed = open_checkpoint(
        note, origin=ORIGIN, verifier=LOG.verifier, others=[WITNESS.verifier]
    )
    assert opened == _checkpoint()
    assert [s.name for s in signed.signatures] == [ORIGIN, "witness.example"]
    # A reader who knows only the log key still opens it; the witness line is set aside.
    only_log, signed = open_checkpoint(note, origin=ORIGIN, verifier=LOG.verifier)
    assert only_log == opened
    assert [s.name for s in signed.unverified] == ["witness.example"]


def test_tampered_root_fails_the_signature() -> None:
    note = sign_checkpoint(_checkpoint(), LOG)
    good = base64.b64encode(TREE.root()).decode()
    bad = base64.b64encode(TREE.root(20)).decode()
    with pytest.raises(NoteError) as caught:
        open_checkpoint(note.replace(good, bad), origin=ORIGIN, verifier=LOG.verifier)
    assert caught.value.code == "BAD_SIGNATURE"


def test_a_checkpoint_signed_only_by_a_witness_is_not_the_log_s() -> None:
    note = sign_checkpoint(_checkpoint(), WITNESS)
    with pytest.raises(NoteError, match="not signed by the log key") as caught:
        open_checkpoint(note, origin=ORIGIN, verifier=LOG.verifier, others=[WITNESS.verifier])
    assert caught.value.code == "UNKNOWN_KEY"


def test_another_log_s_checkpoint_cannot_be_replayed() -> None:
    # Same key, other origin: a checkpoint of anonymity's log offered as identity's.
    other = Checkpoint("consilium.example/audit/anonymity", 21, TREE.root())
    with pytest.raises(NoteError, match="anonymity") as caught:
        open_checkpoint(sign_checkpoint(other, LOG), origin=ORIGIN, verifier=LOG.verifier)
    assert caught.value.code == "ORIGIN_MISMATCH"


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (f"{ORIGIN}\n21\n", "need origin"),
        (f"{ORIGIN}\n021\n{base64.b64encode(bytes(32)).decode()}\n", "not a decimal"),
        (f"{ORIGIN}\n-1\n{base64.b64encode(bytes(32)).decode()}\n", "not a decimal"),
        (f"{ORIGIN}\n21\nnot base64!\n", "not base64"),
        (f"{ORIGIN}\n21\n{base64.b64encode(bytes(31)).decode()}\n", "31 bytes"),
        (f"\n21\n{base64.b64encode(bytes(32)).decode()}\n", "origin"),
        (f"{ORIGIN}\n21\n{base64.b64encode(bytes(32)).decode()}\n\n", "extension"),
        (f"{ORIGIN}\n{2**64}\n{base64.b64encode(bytes(32)).decode()}\n", "out of range"),
    ],
)
def test_malformed_bodies_name_what_is_wrong(body: str, what: str) -> None:
    with pytest.raises(NoteError, match=what) as caught:
        Checkpoint.parse(body)
    assert caught.value.code == "MALFORMED_CHECKPOINT"


def test_a_signed_but_malformed_body_is_refused_after_the_signature() -> None:
    note = sign_note(f"{ORIGIN}\nmany\n{base64.b64encode(bytes(32)).decode()}\n", LOG)
    with pytest.raises(NoteError) as caught:
        open_checkpoint(note, origin=ORIGIN, verifier=LOG.verifier)
    assert caught.value.code == "MALFORMED_CHECKPOINT"


def test_inclusion_proof_json_round_trip_and_verify_in_checkpoint() -> None:
    proof = InclusionProof.of(TREE, 13)
    carried = InclusionProof.from_json(json.loads(json.dumps(proof.to_json())))
    assert carried == proof
    carried.verify_in(_checkpoint(), TREE.leaf(13))
    with pytest.raises(ProofError, match="tree size 21, checkpoint is 20"):
        carried.verify_in(_checkpoint(20), TREE.leaf(13))
    with pytest.raises(ProofError):
        carried.verify_in(_checkpoint(), TREE.leaf(12))
    older = InclusionProof.of(TREE, 13, 14)
    older.verify_in(_checkpoint(14), TREE.leaf(13))


def test_consistency_proof_json_round_trip_and_verify_between_checkpoints() -> None:
    proof = ConsistencyProof.of(TREE, 9)
    carried = ConsistencyProof.from_json(json.loads(json.dumps(proof.to_json())))
    assert carried == proof
    carried.verify_between(_checkpoint(9), _checkpoint())
    with pytest.raises(ProofError, match="sizes 9->21"):
        carried.verify_between(_checkpoint(8), _checkpoint())
    rolled_back = Checkpoint(ORIGIN, 9, TREE.root(8))
    with pytest.raises(ProofError, match="old root"):
        carried.verify_between(rolled_back, _checkpoint())
    elsewhere = Checkpoint("elsewhere", 9, TREE.root(9))
    with pytest.raises(ProofError, match="two logs"):
        carried.verify_between(elsewhere, _checkpoint())


@pytest.mark.parametrize(
    "data",
    [
        {"leaf_index": 1, "tree_size": 2},
        {"leaf_index": -1, "tree_size": 2, "hashes": []},
        {"leaf_index": True, "tree_size": 2, "hashes": []},
        {"leaf_index": "1", "tree_size": 2, "hashes": []},
        {"leaf_index": 1, "tree_size": 2, "hashes": ["AAAA"]},
        {"leaf_index": 1, "tree_size": 2, "hashes": ["not base64!"]},
        {"leaf_index": 1, "tree_size": 2, "hashes": [7]},
        {"leaf_index": 1, "tree_size": 2, "hashes": "AAAA"},
    ],
)
def test_malformed_proof_json_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ProofError):
        InclusionProof.from_json(data)


def test_vkey_of_a_signer_is_what_a_reader_needs() -> None:
    reader = NoteVerifier.from_vkey(LOG.verifier.vkey)
    assert reader.vkey.startswith(ORIGIN + "+")
    opened, _ = open_checkpoint(sign_checkpoint(_checkpoint(), LOG), origin=ORIGIN, verifier=reader)
    assert opened.size == 21
