"""The audit signing key: env PEM, a key file, a dev key made once (0600), production refusal."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from plumbing.auditkeys import (
    AuditKeyError,
    AuditSigningKey,
    KeyOrigin,
    dev_signing_key_path,
    load_audit_signing_key,
    private_pem,
    publish_public_key,
    signing_key_env,
)
from plumbing.auth.jwk import key_id

COMPONENT = "anonymity"
SIGNING_KEY_ENV, SIGNING_KEY_FILE_ENV = signing_key_env(COMPONENT)
DEV_SIGNING_KEY_PATH = dev_signing_key_path(COMPONENT)

KEY = AuditSigningKey.of(Ed25519PrivateKey.generate())
PEM = private_pem(KEY).decode()


@pytest.fixture(autouse=True)
def _no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    monkeypatch.delenv(SIGNING_KEY_FILE_ENV, raising=False)


def test_the_key_id_is_the_public_keys_thumbprint() -> None:
    assert KEY.key_id == key_id(KEY.private_key.public_key())
    assert AuditSigningKey.of(KEY.private_key).key_id == KEY.key_id


def test_env_pem_wins_over_the_file_and_the_dev_key(tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(private_pem(AuditSigningKey.of(Ed25519PrivateKey.generate())))
    key, source = load_audit_signing_key(
        COMPONENT, tmp_path, allow_dev_key=True, env_pem=PEM, file=other
    )
    assert source is KeyOrigin.ENV and key.key_id == KEY.key_id
    assert not (tmp_path / DEV_SIGNING_KEY_PATH).exists()


def test_env_variables_are_read_when_not_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "signing.pem"
    path.write_text(PEM)
    monkeypatch.setenv(SIGNING_KEY_FILE_ENV, str(path))
    key, source = load_audit_signing_key(COMPONENT, tmp_path, allow_dev_key=False)
    assert (source, key.key_id) == (KeyOrigin.FILE, KEY.key_id)
    monkeypatch.setenv(SIGNING_KEY_ENV, PEM)
    assert load_audit_signing_key(COMPONENT, tmp_path, allow_dev_key=False)[1] is KeyOrigin.ENV


def test_a_key_file(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    path.write_text(PEM)
    key, source = load_audit_signing_key(
        COMPONENT, tmp_path, allow_dev_key=False, env_pem="", file=path
    )
    assert source is KeyOrigin.FILE and key.key_id == KEY.key_id


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(AuditKeyError, match=SIGNING_KEY_FILE_ENV):
        load_audit_signing_key(
            COMPONENT, tmp_path, allow_dev_key=True, file=tmp_path / "missing.pem"
        )


def test_the_dev_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first, source = load_audit_signing_key(COMPONENT, tmp_path, allow_dev_key=True, env_pem="")
    assert source is KeyOrigin.DEV_KEY_GENERATED
    path = tmp_path / DEV_SIGNING_KEY_PATH
    assert path == tmp_path / "anonymity" / "keys" / "audit-signing-key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(path.parent.glob(".*.tmp")), "no temporary file is left behind"
    second, source = load_audit_signing_key(COMPONENT, tmp_path, allow_dev_key=True, env_pem="")
    assert source is KeyOrigin.DEV_KEY_LOADED and second.key_id == first.key_id
    signature = second.private_key.sign(b"chain")
    first.public_key.verify(signature, b"chain")


def test_production_refuses_to_generate(tmp_path: Path) -> None:
    with pytest.raises(AuditKeyError, match="never generated in production"):
        load_audit_signing_key(COMPONENT, tmp_path, allow_dev_key=False, env_pem="")
    assert not (tmp_path / DEV_SIGNING_KEY_PATH).exists()


def test_a_non_ed25519_or_malformed_key_is_refused_without_quoting_it(tmp_path: Path) -> None:
    rsa = generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(AuditKeyError, match="must be Ed25519"):
        load_audit_signing_key(COMPONENT, tmp_path, allow_dev_key=False, env_pem=rsa.decode())
    with pytest.raises(AuditKeyError, match=SIGNING_KEY_ENV) as caught:
        load_audit_signing_key(COMPONENT, tmp_path, allow_dev_key=False, env_pem="secret-not-a-pem")
    assert "secret-not-a-pem" not in str(caught.value)


def test_the_public_key_is_published_under_its_key_id(tmp_path: Path) -> None:
    directory = tmp_path / "audit" / "trusted-keys"
    path = publish_public_key(KEY, directory)
    assert path == directory / f"{KEY.key_id}.pem"
    public = serialization.load_pem_public_key(path.read_bytes())
    assert public == KEY.public_key
    assert b"PRIVATE" not in path.read_bytes()
    assert publish_public_key(KEY, directory) == path, "publishing again changes nothing"
    assert [p.name for p in directory.iterdir()] == [path.name]
