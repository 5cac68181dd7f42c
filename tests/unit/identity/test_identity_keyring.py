"""Loading the signing key: env PEM, key file, a dev key made once (mode 0600), verify keys."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.identity.domain.physician import Role, VerificationStatus
from services.identity.tokens import (
    DEV_KEY_PATH,
    SIGNING_KEY_ENV,
    SIGNING_KEY_FILE_ENV,
    KeyRing,
    KeyRingError,
    KeySource,
    TokenIssuer,
    key_id,
    load_verify_key_pem,
)

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
USER = "usr_abcdefghijklmnopqrstuvwxyz"


def pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


# --- loading the signing key ----------------------------------------------------------


def test_a_dev_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    first = KeyRing.load(tmp_path, environ={})
    key_file = tmp_path / "identity" / "keys" / "signing-key.pem"
    assert tmp_path / DEV_KEY_PATH == key_file
    assert first.source is KeySource.DEV_KEY_GENERATED
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")

    second = KeyRing.load(tmp_path, environ={})
    assert second.source is KeySource.DEV_KEY_LOADED
    assert second.signing_kid == first.signing_kid
    assert [p.name for p in key_file.parent.iterdir()] == ["signing-key.pem"]  # no temp files


def test_the_dev_key_is_private_to_its_owner(tmp_path: Path) -> None:
    KeyRing.load(tmp_path, environ={})
    key_file = tmp_path / DEV_KEY_PATH
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700


def test_a_dev_key_token_verifies_after_a_restart(tmp_path: Path) -> None:
    issuer = TokenIssuer(KeyRing.load(tmp_path, environ={}), clock=lambda: NOW)
    token = issuer.issue(USER, {Role.MEMBER}, VerificationStatus.PENDING).token
    restarted = KeyRing.load(tmp_path, environ={})
    assert restarted.verifier(clock=lambda: NOW).verify(token).user_id == USER


def test_the_env_pem_takes_precedence(tmp_path: Path) -> None:
    env_key = Ed25519PrivateKey.generate()
    file_key = Ed25519PrivateKey.generate()
    key_file = tmp_path / "mounted.pem"
    key_file.write_text(pem(file_key))
    KeyRing.load(tmp_path, environ={})  # an existing dev key must not win either
    ring = KeyRing.load(
        tmp_path, environ={SIGNING_KEY_ENV: pem(env_key), SIGNING_KEY_FILE_ENV: str(key_file)}
    )
    assert ring.source is KeySource.ENV
    assert ring.signing_kid == key_id(env_key.public_key())


def test_the_env_pem_may_use_escaped_newlines(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    ring = KeyRing.load(tmp_path, environ={SIGNING_KEY_ENV: pem(key).replace("\n", "\\n")})
    assert ring.signing_kid == key_id(key.public_key())


def test_the_key_file_comes_before_the_dev_key(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    key_file = tmp_path / "mounted.pem"
    key_file.write_text(pem(key))
    ring = KeyRing.load(
        tmp_path, environ={SIGNING_KEY_ENV: "  ", SIGNING_KEY_FILE_ENV: str(key_file)}
    )
    assert ring.source is KeySource.FILE
    assert ring.signing_kid == key_id(key.public_key())
    assert not (tmp_path / DEV_KEY_PATH).exists(), "no dev key is made when one is configured"


def test_without_a_configured_key_production_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(KeyRingError, match=SIGNING_KEY_ENV):
        KeyRing.load(tmp_path, environ={}, allow_dev_key=False)
    assert not (tmp_path / DEV_KEY_PATH).exists()


def test_bad_key_material_is_reported_without_echoing_it(tmp_path: Path) -> None:
    secret_looking = "-----BEGIN PRIVATE KEY-----\nQ0FOQVJZLXNlY3JldA==\n-----END PRIVATE KEY-----"
    with pytest.raises(KeyRingError) as caught:
        KeyRing.load(tmp_path, environ={SIGNING_KEY_ENV: secret_looking})
    assert str(caught.value) == f"{SIGNING_KEY_ENV}: not an unencrypted PEM private key"


def test_a_non_ed25519_key_is_refused(tmp_path: Path) -> None:
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyRingError, match="not an Ed25519 key"):
        KeyRing.load(tmp_path, environ={SIGNING_KEY_ENV: ec_pem.decode()})


def test_an_unreadable_key_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(KeyRingError, match=f"cannot read the file named by {SIGNING_KEY_FILE_ENV}"):
        KeyRing.load(tmp_path, environ={SIGNING_KEY_FILE_ENV: str(tmp_path / "missing.pem")})


def test_verify_keys_load_from_public_or_private_pem() -> None:
    key = Ed25519PrivateKey.generate()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key_id(load_verify_key_pem(public_pem)) == key_id(key.public_key())
    assert key_id(load_verify_key_pem(pem(key))) == key_id(key.public_key())
    with pytest.raises(KeyRingError, match="not a PEM-encoded public key"):
        load_verify_key_pem(b"junk")
