"""Person links in audit events that erasure can shred: a keyed blind tag plus a sealed id.

An audit record must say whose identity was accessed, yet after the person is erased it
must no longer say so, while its signed bytes still verify. So a producer that knows the
person (identity) records, instead of the user id in clear:

- a **blind tag**, `ptag_` + HMAC-SHA256(tag key, user id), in `subject_id`: auditors find a
  person's events by it (the ledger computes it from the user id they ask about); without the
  tag key it names nobody. The tag key is one 32-byte secret held by identity and by the
  audit ledger (`CONSILIUM_AUDIT_TAG_KEY` or `_FILE`; in dev `<data dir>/keys/audit-tag-key`).
- a **sealed link**, AES-256-GCM(the person's own audit sealing key, user id; associated
  data: the event id), in `sealed_subject`: identity, which keeps one random key per person,
  can open it while the person exists. Erasure deletes that key, so the link is gone for
  good, but the event's bytes (ciphertext and tag) are unchanged and still verify.

Mechanism only: the keys' storage is the producer's business.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from plumbing.secretkeys import load_secret_key

TAG_KEY_ENV = "CONSILIUM_AUDIT_TAG_KEY"
TAG_KEY_FILE_ENV = "CONSILIUM_AUDIT_TAG_KEY_FILE"
DEV_TAG_KEY_PATH = Path("keys", "audit-tag-key")
TAG_PREFIX = "ptag_"
_NONCE = 12
_TAG_CONTEXT = b"consilium audit subject tag v1\x00"


class AuditLinkError(Exception):
    """A tag key that is missing or malformed, or a sealed link that does not open."""


def subject_tag(tag_key: bytes, user_id: str) -> str:
    """The blind tag recorded instead of `user_id` (stable: the same person, the same tag)."""
    digest = hmac.new(tag_key, _TAG_CONTEXT + user_id.encode(), hashlib.sha256).digest()
    return TAG_PREFIX + base64.b32encode(digest[:20]).decode().lower()


def is_subject_tag(value: str) -> bool:
    return value.startswith(TAG_PREFIX)


def new_sealing_key() -> bytes:
    """A person's audit sealing key: random, so nothing but the stored copy can open links."""
    return AESGCM.generate_key(bit_length=256)


def seal_subject(sealing_key: bytes, user_id: str, *, event_id: str) -> bytes:
    """`user_id` sealed to one event (nonce || ciphertext); opens only with `event_id`."""
    nonce = secrets.token_bytes(_NONCE)
    return nonce + AESGCM(sealing_key).encrypt(nonce, user_id.encode(), event_id.encode())


def open_subject(sealing_key: bytes, sealed: bytes, *, event_id: str) -> str:
    """The user id a sealed link names; AuditLinkError if the key or event does not fit."""
    try:
        plain = AESGCM(sealing_key).decrypt(sealed[:_NONCE], sealed[_NONCE:], event_id.encode())
    except (InvalidTag, ValueError):
        raise AuditLinkError("the sealed link does not open with this key") from None
    return plain.decode()


def load_tag_key(
    data_dir: Path, *, environ: Mapping[str, str] | None = None, allow_dev: bool = True
) -> bytes:
    """The tag key: base64 of 32 bytes from the environment or a file; generated in dev."""
    return load_secret_key(
        key_env=TAG_KEY_ENV,
        file_env=TAG_KEY_FILE_ENV,
        dev_path=data_dir / DEV_TAG_KEY_PATH,
        environ=environ,
        allow_dev=allow_dev,
        error=AuditLinkError,
    )
