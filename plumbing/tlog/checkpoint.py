"""C2SP tlog-checkpoint: a log's signed statement of its size and root hash.

The body is three lines and optional extension lines, each ending in a newline:

    <origin>                   the log's unique name, e.g. `consilium.example/audit/identity`
    <tree size>                ASCII decimal, no leading zeros
    <base64 root hash>         the RFC 6962 root of the first <tree size> leaves
    [<extension line>...]      non-empty lines, opaque to verifiers

signed as a C2SP signed note (`plumbing.tlog.note`). `open_checkpoint` is the counterpart of
`log.ParseCheckpoint` in github.com/transparency-dev/formats: it trusts a body only when the
log's own key signed it and the origin is the one the reader expects, so a checkpoint of one
log can never be replayed as another's.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from plumbing.tlog.merkle import HASH_SIZE
from plumbing.tlog.note import Note, NoteError, NoteSigner, NoteVerifier, open_note, sign_note

_SIZE = re.compile(r"0|[1-9][0-9]*")
_MAX_SIZE = 2**64 - 1  # a uint64 in every Go verifier


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a checkpoint says: which log, how many leaves, which root."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("MALFORMED_CHECKPOINT", "the origin is one non-empty line")
        if not 0 <= self.size <= _MAX_SIZE:
            raise NoteError("MALFORMED_CHECKPOINT", f"tree size {self.size} is out of range")
        if len(self.root_hash) != HASH_SIZE:
            raise NoteError(
                "MALFORMED_CHECKPOINT",
                f"root hash has {len(self.root_hash)} bytes, expected {HASH_SIZE}",
            )
        for line in self.extensions:
            if not line or "\n" in line:
                raise NoteError("MALFORMED_CHECKPOINT", "an extension is one non-empty line")

    def body(self) -> str:
        """The note text this checkpoint signs."""
        root = base64.b64encode(self.root_hash).decode()
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Reads a checkpoint body; raises NoteError(MALFORMED_CHECKPOINT) naming the bad line."""
        if not body.endswith("\n"):
            raise NoteError("MALFORMED_CHECKPOINT", "the body must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("MALFORMED_CHECKPOINT", "need origin, tree size and root hash lines")
        origin, size_line, root_line, *extensions = lines
        if not _SIZE.fullmatch(size_line):
            raise NoteError("MALFORMED_CHECKPOINT", f"tree size {size_line!r} is not a decimal")
        try:
            root = base64.b64decode(root_line, validate=True)
        except binascii.Error:
            raise NoteError("MALFORMED_CHECKPOINT", "root hash is not base64") from None
        return cls(origin, int(size_line), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner, *cosigners: NoteSigner) -> str:
    """The signed note of `checkpoint`, the log's signature first."""
    return sign_note(checkpoint.body(), signer, *cosigners)


def open_checkpoint(
    message: str | bytes,
    *,
    origin: str,
    verifier: NoteVerifier,
    others: Iterable[NoteVerifier] = (),
) -> tuple[Checkpoint, Note]:
    """Verifies a signed checkpoint of the log `origin` whose key is `verifier`.

    `others` are further keys (witnesses) whose signatures are checked when present. Raises
    NoteError: MALFORMED_NOTE, UNKNOWN_KEY (not signed by the log's key), BAD_SIGNATURE,
    MALFORMED_CHECKPOINT or ORIGIN_MISMATCH.
    """
    note = open_note(message, [verifier, *others])
    signed_by_log = any(
        s.name == verifier.name and s.key_hash == verifier.key_hash for s in note.signatures
    )
    if not signed_by_log:
        raise NoteError("UNKNOWN_KEY", f"checkpoint is not signed by the log key {verifier.name!r}")
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != origin:
        raise NoteError(
            "ORIGIN_MISMATCH", f"checkpoint is for {checkpoint.origin!r}, expected {origin!r}"
        )
    return checkpoint, note
