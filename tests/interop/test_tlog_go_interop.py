"""Interop: the Go transparency-log packages verify our checkpoints and proofs and reject tampering.

tests/interop/tlogverify is a small Go program over golang.org/x/mod/sumdb/note,
github.com/transparency-dev/formats/log and github.com/transparency-dev/merkle (versions pinned
in its go.mod/go.sum). It is built once per change of its sources into
`$CONSILIUM_CACHE/tlogverify/<hash>/` (default ~/.cache/consilium), outside the checkout; the
modules come from the Go module proxy of the environment (GOPROXY as `go env` has it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    leaf_hash,
    open_checkpoint,
    sign_checkpoint,
)

MODULE = Path(__file__).parent / "tlogverify"
SOURCES = ("go.mod", "go.sum", "main.go")
ORIGIN = "consilium.example/audit/identity"

Verifier = Callable[[dict[str, Any]], subprocess.CompletedProcess[str]]


def _go() -> str:
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(go).exists():
        pytest.fail(
            "the Go toolchain (`go`, 1.25 or later) is needed to build tests/interop/tlogverify"
        )
    return go


@pytest.fixture(scope="session")
def tlogverify() -> Verifier:
    go = _go()
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update(name.encode() + b"\0" + (MODULE / name).read_bytes())
    cache = Path(os.environ.get("CONSILIUM_CACHE", Path.home() / ".cache" / "consilium"))
    binary = cache / "tlogverify" / digest.hexdigest()[:16] / "tlogverify"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial = binary.with_name(f"tlogverify.{os.getpid()}.partial")
        env = {**os.environ, "GOFLAGS": "-mod=mod -buildvcs=false"}
        built = subprocess.run(
            [go, "build", "-o", str(partial), "."],
            cwd=MODULE,
            env=env,
            capture_output=True,
            text=True,
            timeout=280,
        )
        if built.returncode != 0:
            pytest.fail(f"go build of tests/interop/tlogverify failed:\n{built.stderr}")
        partial.replace(binary)  # atomic, so a parallel run never starts half a binary

    def run(request: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(binary)], input=json.dumps(request), capture_output=True, text=True, timeout=60
        )

    return run


LOG = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
TREE = MerkleTree(leaf_hash(b"audit event %d" % i) for i in range(100))
OLD_SIZE = 37


def _signed(size: int, root: bytes | None = None, origin: str = ORIGIN) -> str:
    return sign_checkpoint(Checkpoint(origin, size, TREE.root(size) if root is None else root), LOG)


def _inclusion(index: int, size: int = 100) -> dict[str, Any]:
    leaf = base64.b64encode(TREE.leaf(index)).decode()
    return {"leaf_hash": leaf, "proof": InclusionProof.of(TREE, index, size).to_json()}


def _request() -> dict[str, Any]:
    return {
        "vkey": LOG.verifier.vkey,
        "origin": ORIGIN,
        "checkpoint": _signed(100),
        "inclusion": [_inclusion(i) for i in (0, 1, 36, 63, 64, 98, 99)],
        "old_checkpoint": _signed(OLD_SIZE),
        "consistency": ConsistencyProof.of(TREE, OLD_SIZE).to_json(),
    }


def _flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[7] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_go_accepts_our_checkpoints_and_proofs(tlogverify: Verifier) -> None:
    result = tlogverify(_request())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"OK checkpoint {ORIGIN} size 100; 7 inclusion proofs")
    assert "consistent with size 37" in result.stdout


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 16, 17])
def test_go_accepts_every_proof_shape_of_small_trees(tlogverify: Verifier, size: int) -> None:
    for old in range(1, size + 1):
        request = {
            "vkey": LOG.verifier.vkey,
            "origin": ORIGIN,
            "checkpoint": _signed(size),
            "inclusion": [_inclusion(i, size) for i in range(size)],
            "old_checkpoint": _signed(old),
            "consistency": ConsistencyProof.of(TREE, old, size).to_json(),
        }
        result = tlogverify(request)
        assert result.returncode == 0, f"{old}->{size}: {result.stdout}{result.stderr}"


def _tamper_root(r: dict[str, Any]) -> None:
    good = base64.b64encode(TREE.root()).decode()
    r["checkpoint"] = r["checkpoint"].replace(good, _flip(good))


def _lying_log(r: dict[str, Any]) -> None:
    # Correctly signed, but over a root that is not the root of the leaves proven.
    r["checkpoint"] = _signed(100, root=TREE.root(99))


def _tamper_inclusion(r: dict[str, Any]) -> None:
    hashes = r["inclusion"][3]["proof"]["hashes"]
    hashes[2] = _flip(hashes[2])


def _wrong_leaf(r: dict[str, Any]) -> None:
    r["inclusion"][2]["leaf_hash"] = base64.b64encode(leaf_hash(b"forged event")).decode()


def _tamper_consistency(r: dict[str, Any]) -> None:
    hashes = r["consistency"]["hashes"]
    hashes[0] = _flip(hashes[0])


def _forked_history(r: dict[str, Any]) -> None:
    # The checkpoint the auditor kept has another event 5 than the log now serves.
    forked = MerkleTree(
        [
            *(TREE.leaf(i) for i in range(5)),
            leaf_hash(b"x"),
            *(TREE.leaf(i) for i in range(6, OLD_SIZE)),
        ]
    )
    r["old_checkpoint"] = _signed(OLD_SIZE, root=forked.root())


def _rolled_back(r: dict[str, Any]) -> None:
    # The ledger serves an older checkpoint than one the auditor already holds.
    r["checkpoint"], r["old_checkpoint"], r["inclusion"] = _signed(OLD_SIZE), _signed(100), []
    r["consistency"] = {"old_size": 100, "new_size": OLD_SIZE, "hashes": []}


def _wrong_key(r: dict[str, Any]) -> None:
    r["vkey"] = NoteSigner(ORIGIN, Ed25519PrivateKey.generate()).verifier.vkey


def _wrong_origin(r: dict[str, Any]) -> None:
    r["origin"] = "consilium.example/audit/anonymity"


def _other_log_s_checkpoint(r: dict[str, Any]) -> None:
    r["checkpoint"] = _signed(100, origin="consilium.example/audit/anonymity")


def _stale_proof_size(r: dict[str, Any]) -> None:
    r["inclusion"][0] = _inclusion(0, 99)


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_tamper_root, "checkpoint: failed to verify signatures"),
        (_lying_log, "inclusion 0 (leaf 0)"),
        (_tamper_inclusion, "inclusion 3 (leaf 63)"),
        (_wrong_leaf, "inclusion 2 (leaf 36)"),
        (_tamper_consistency, "consistency 37->100"),
        (_forked_history, "consistency 37->100"),
        (_rolled_back, "consistency 100->37"),
        (_wrong_key, "checkpoint: failed to verify signatures"),
        (_wrong_origin, "but expected"),
        (_other_log_s_checkpoint, "but expected"),
        (_stale_proof_size, "proof for size 99, checkpoint size 100"),
    ],
    ids=lambda v: getattr(v, "__name__", "")[1:] if callable(v) else None,
)
def test_go_rejects_tampering(
    tlogverify: Verifier, tamper: Callable[[dict[str, Any]], None], expected: str
) -> None:
    request = _request()
    tamper(request)
    result = tlogverify(request)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("REJECTED: ")
    assert expected in result.stdout


def test_we_verify_what_go_signs(tlogverify: Verifier) -> None:
    root = base64.b64encode(TREE.root()).decode()
    result = tlogverify({"mode": "sign", "origin": ORIGIN, "size": 100, "root_hash": root})
    assert result.returncode == 0, result.stderr
    made = json.loads(result.stdout)
    verifier = NoteVerifier.from_vkey(made["vkey"])
    checkpoint, _ = open_checkpoint(made["checkpoint"], origin=ORIGIN, verifier=verifier)
    assert checkpoint == Checkpoint(ORIGIN, 100, TREE.root())
    InclusionProof.of(TREE, 42).verify_in(checkpoint, TREE.leaf(42))
    with pytest.raises(NoteError) as caught:
        open_checkpoint(
            made["checkpoint"].replace(root, _flip(root)), origin=ORIGIN, verifier=verifier
        )
    assert caught.value.code == "BAD_SIGNATURE"
