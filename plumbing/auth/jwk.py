"""JSON Web Keys for Ed25519: thumbprint key ids and the public JWK form (RFC 7638, 8037)."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALGORITHM = "EdDSA"


def key_id(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url): stable for a key, unique per key."""
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw_public(public_key))}
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(canonical).digest())


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as a JSON Web Key (RFC 8037 OKP), with its kid."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(raw_public(public_key)),
        "kid": key_id(public_key),
        "alg": ALGORITHM,
        "use": "sig",
    }


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def padded_b64(text: str) -> str:
    return text + "=" * (-len(text) % 4)
