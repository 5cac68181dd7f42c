"""Envelope encryption, blind indexes and keyed handles for the alias mapping.

- Each person has a random 256-bit data key (AES-256-GCM). It encrypts their user id on
  every alias row, their name, and their IDENTIFIED alias's display name. The data key is
  stored only wrapped under a master key-encryption key (KEK) named by a key id, so KEKs
  rotate: new wraps use the active KEK, old wraps still open with the retired ones kept in
  the ring. Deleting the wrapped data key crypto-shreds the person.
- Lookups by person use HMAC-SHA256 over length-prefixed inputs with keys derived (HKDF)
  from a separate index key. The index key never rotates with the KEKs, because every
  stored blind index would have to be recomputed from user ids we do not keep in clear.
- Every AEAD call binds its ciphertext to where it lives (associated data), so a
  ciphertext copied onto another row does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
_NONCE_BYTES = 12


class CryptoError(Exception):
    """A ciphertext did not open: wrong key, unknown key id, or tampered data."""


def length_prefixed(*parts: str | bytes) -> bytes:
    """Unambiguous concatenation: ("ab", "c") and ("a", "bc") never encode alike."""
    out = bytearray()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def encrypt(key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """nonce || AES-256-GCM ciphertext+tag, with a fresh random nonce."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, blob: bytes, *, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], aad)
    except (InvalidTag, ValueError) as exc:
        raise CryptoError("ciphertext does not open with this key") from exc


def subkey(index_key: bytes, purpose: str) -> bytes:
    """A key for one purpose, derived from the index key (HKDF)."""
    return _subkey(index_key, purpose)


def _subkey(index_key: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()
    ).derive(index_key)


@dataclass(frozen=True, slots=True)
class Sealed:
    """A ciphertext and the id of the master key that sealed it."""

    kid: str
    blob: bytes


@dataclass(frozen=True)
class MasterKeys:
    """The KEK ring (one active) plus the index key; the service's only long-lived secrets."""

    keys: Mapping[str, bytes] = field(repr=False)
    active_kid: str
    index_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if self.active_kid not in self.keys:
            raise ValueError("the active key id is not in the key ring")
        if any(len(k) != KEY_BYTES for k in (*self.keys.values(), self.index_key)):
            raise ValueError(f"every key must be {KEY_BYTES} bytes")

    def seal(self, plaintext: bytes, *, aad: bytes) -> Sealed:
        return Sealed(self.active_kid, encrypt(self.keys[self.active_kid], plaintext, aad=aad))

    def open(self, sealed: Sealed, *, aad: bytes) -> bytes:
        key = self.keys.get(sealed.kid)
        if key is None:
            raise CryptoError("sealed under a master key that is not in the ring")
        return decrypt(key, sealed.blob, aad=aad)

    def indexer(self) -> Indexer:
        return Indexer(self.index_key)


class Indexer:
    """Keyed, deterministic values: blind indexes, alias slots and handle numbers."""

    def __init__(self, index_key: bytes) -> None:
        self._owner = _subkey(index_key, "consilium/anonymity/blind-index/v1")
        self._slot = _subkey(index_key, "consilium/anonymity/alias-slot/v1")
        self._handle = _subkey(index_key, "consilium/anonymity/handle/v1")

    def blind_index(self, user_id: str) -> str:
        """Stands in for the user id in lookups; useless without the index key."""
        return _mac(self._owner, length_prefixed("user", user_id))

    def slot(self, user_id: str, visibility: str, scope_id: str) -> str:
        """One value per (person, visibility, scope): finds an existing alias, links nothing."""
        return _mac(self._slot, length_prefixed(user_id, visibility, scope_id))

    def handle_number(self, alias_id: str) -> int:
        """A stable 4-digit number (1000-9999) for an alias's handle."""
        digest = hmac.new(self._handle, length_prefixed(alias_id), hashlib.sha256).digest()
        return 1000 + int.from_bytes(digest[:8], "big") % 9000


def _mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()
