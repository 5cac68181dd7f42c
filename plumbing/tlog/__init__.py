"""Transparency-log mechanisms: RFC 6962 Merkle trees, C2SP signed notes and checkpoints, proofs.

Interoperable with the Go ecosystem (golang.org/x/mod/sumdb/note,
github.com/transparency-dev/formats/log, github.com/transparency-dev/merkle); the interop test
in tests/interop checks that with the Go packages themselves.
"""

from plumbing.tlog.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from plumbing.tlog.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MerkleTree,
    ProofError,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from plumbing.tlog.note import Note, NoteError, NoteSigner, NoteVerifier, open_note, sign_note
from plumbing.tlog.proofs import ConsistencyProof, InclusionProof

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Checkpoint",
    "ConsistencyProof",
    "InclusionProof",
    "MerkleTree",
    "Note",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "ProofError",
    "leaf_hash",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "root_from_inclusion_proof",
    "root_hash",
    "sign_checkpoint",
    "sign_note",
    "verify_consistency",
    "verify_inclusion",
]
