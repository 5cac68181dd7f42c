"""The producers configuration: who may sign with which key, read strictly."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from plumbing.auth.jwk import key_id
from services.audit.domain.producers import ProducerConfigError, parse_producers


def pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_pins_bind_keys_to_one_producer_each() -> None:
    identity, anonymity = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    pins = parse_producers(
        json.dumps({"identity": [pem(identity)], "anonymity": [key_id(anonymity.public_key())]})
    )

    kid = key_id(identity.public_key())
    assert pins.producers == ["anonymity", "identity"]
    assert pins.allows("identity", kid)
    assert not pins.allows("anonymity", kid)
    assert pins.owner(kid) == "identity"
    assert set(pins.inline_keys) == {kid}  # the PEM's key; the key id needs the directory


def test_nothing_configured_allows_every_key() -> None:
    pins = parse_producers("")
    assert not pins.configured
    assert pins.allows("anyone", "any-key")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{", "not JSON"),
        ("[]", "expected"),
        ('{"identity": []}', "non-empty list"),
        ('{"identity": [7]}', "PEM public key or a key id"),
        ('{"identity": ["-----BEGIN PUBLIC KEY-----\\nxx\\n-----END PUBLIC KEY-----"]}', "PEM"),
        ('{"identity": ["k1"], "anonymity": ["k1"]}', "pinned to two producers"),
    ],
)
def test_a_bad_configuration_is_refused_naming_the_fault(text: str, says: str) -> None:
    with pytest.raises(ProducerConfigError, match=says):
        parse_producers(text)
