"""C2SP signed notes with Ed25519 keys, byte-compatible with golang.org/x/mod/sumdb/note.

A note is UTF-8 text ending in a newline, a blank line, then signature lines
`— <key name> <base64(key hash (4 bytes, big-endian) || signature)>`. The key hash is the first
four bytes of SHA-256(name || "\\n" || 0x01 || public key), and a verifier key is published as
`<name>+<8 hex digits of key hash>+<base64(0x01 || public key)>`. An Ed25519 signature covers
the text, final newline included. As in the Go package, signatures by keys the reader does
not know are kept aside (they may be witnesses' cosignatures), a bad signature by a known key
fails the whole note, and a note with no signature by a known key is not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 0x01
_SIG_PREFIX = "\u2014 "  # em dash, space
_MAX_SIGNATURES = 100  # as x/mod: bounds the work one note can ask of a reader


class NoteError(ValueError):
    """A note, key or checkpoint that cannot be trusted; `code` says which check failed.

    Codes: MALFORMED_KEY, MALFORMED_NOTE, UNKNOWN_KEY (no signature by a known key),
    BAD_SIGNATURE, MALFORMED_CHECKPOINT, ORIGIN_MISMATCH.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def is_valid_key_name(name: str) -> bool:
    """A key name is non-empty, with no Unicode space and no '+' (the vkey separator)."""
    return bool(name) and not any(c.isspace() or c == "+" for c in name)


def key_hash(name: str, public_key: Ed25519PublicKey) -> int:
    """The 32-bit key hash a signature line carries to say which key made it."""
    encoded = bytes([ALG_ED25519]) + _raw(public_key)
    digest = hashlib.sha256(name.encode() + b"\n" + encoded).digest()
    return int.from_bytes(digest[:4], "big")


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """One trusted key: its name, key hash and Ed25519 public key."""

    name: str
    public_key: Ed25519PublicKey
    key_hash: int = field(init=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise NoteError("MALFORMED_KEY", f"invalid key name {self.name!r}")
        object.__setattr__(self, "key_hash", key_hash(self.name, self.public_key))

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parses `<name>+<hex key hash>+<base64(0x01 || public key)>`, checking the hash."""
        name, _, rest = vkey.partition("+")
        hash_hex, _, key_b64 = rest.partition("+")
        try:
            claimed = int(hash_hex, 16)
            encoded = base64.b64decode(key_b64, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError("MALFORMED_KEY", "a verifier key is name+hash+key") from None
        if len(hash_hex) != 8 or not is_valid_key_name(name) or not encoded:
            raise NoteError("MALFORMED_KEY", "a verifier key is name+hash+key")
        if encoded[0] != ALG_ED25519 or len(encoded) != 33:
            raise NoteError("MALFORMED_KEY", f"key {name!r} is not an Ed25519 key (type 0x01)")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(encoded[1:]))
        if verifier.key_hash != claimed:
            raise NoteError("MALFORMED_KEY", f"key hash of {name!r} does not match its key")
        return verifier

    @property
    def vkey(self) -> str:
        """The published form of this key, as `note.NewVerifier` reads it."""
        encoded = base64.b64encode(bytes([ALG_ED25519]) + _raw(self.public_key)).decode()
        return f"{self.name}+{self.key_hash:08x}+{encoded}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """A named Ed25519 private key that signs notes."""

    name: str
    private_key: Ed25519PrivateKey

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.private_key.public_key())

    def signature_line(self, text: str) -> str:
        """The `— name base64` line that signs `text`."""
        verifier = self.verifier
        signature = self.private_key.sign(text.encode())
        blob = verifier.key_hash.to_bytes(4, "big") + signature
        return f"{_SIG_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    key_hash: int
    base64: str


@dataclass(frozen=True, slots=True)
class Note:
    """An opened note: its text, the signatures verified and those by keys not known."""

    text: str
    signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...]


def sign_note(text: str, *signers: NoteSigner) -> str:
    """The signed note: `text` (which must end in a newline), a blank line, one line a signer."""
    if not text.endswith("\n"):
        raise NoteError("MALFORMED_NOTE", "note text must end with a newline")
    _check_characters(text)
    if not signers:
        raise NoteError("MALFORMED_NOTE", "a signed note needs at least one signer")
    return text + "\n" + "".join(signer.signature_line(text) for signer in signers)


def _check_characters(message: str) -> None:
    if any(c < " " and c != "\n" for c in message):
        raise NoteError("MALFORMED_NOTE", "note holds a control character other than newline")


def open_note(message: str | bytes, known: Iterable[NoteVerifier]) -> Note:
    """Verifies `message` against the `known` keys; raises NoteError saying what is wrong."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("MALFORMED_NOTE", "note is not valid UTF-8") from None
    _check_characters(message)
    split = message.rfind("\n\n")
    if split < 0:
        raise NoteError("MALFORMED_NOTE", "no blank line before the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block or not block.endswith("\n"):
        raise NoteError("MALFORMED_NOTE", "the signature block must end with a newline")
    keys = {(v.name, v.key_hash): v for v in known}
    verified: dict[tuple[str, int], Signature] = {}
    unverified: dict[str, Signature] = {}
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise NoteError("MALFORMED_NOTE", f"more than {_MAX_SIGNATURES} signatures")
    for line in lines:
        name, b64, blob = _parse_signature_line(line)
        key_id = int.from_bytes(blob[:4], "big")
        signature = Signature(name, key_id, b64)
        verifier = keys.get((name, key_id))
        if verifier is None:
            unverified.setdefault(line, signature)
            continue
        if (name, key_id) in verified:
            continue
        if not verifier.verify(text.encode(), blob[4:]):
            raise NoteError("BAD_SIGNATURE", f"signature by key {name!r} does not verify")
        verified[(name, key_id)] = signature
    if not verified:
        names = ", ".join(sorted({s.name for s in unverified.values()}))
        raise NoteError("UNKNOWN_KEY", f"no signature by a known key (signed by: {names})")
    return Note(text, tuple(verified.values()), tuple(unverified.values()))


def _parse_signature_line(line: str) -> tuple[str, str, bytes]:
    if not line.startswith(_SIG_PREFIX):
        raise NoteError("MALFORMED_NOTE", "a signature line starts with an em dash and a space")
    name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
    try:
        blob = base64.b64decode(b64, validate=True)
    except binascii.Error:
        blob = b""
    if not is_valid_key_name(name) or len(blob) < 5:
        raise NoteError("MALFORMED_NOTE", f"malformed signature line for key {name!r}")
    return name, b64, blob
