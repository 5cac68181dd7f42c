"""Identity's audit key from its settings: its own variables, dev publication, production."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from plumbing.auditkeys import (
    DEV_TRUSTED_KEYS_PATH,
    AuditKeyError,
    AuditSigningKey,
    private_pem,
    signing_key_env,
)
from services.identity.app import audit_signing_key
from services.identity.settings import IdentitySettings

SIGNING_KEY_ENV, SIGNING_KEY_FILE_ENV = signing_key_env("identity")
KEY = AuditSigningKey.of(Ed25519PrivateKey.generate())
PEM = private_pem(KEY).decode()


@pytest.fixture(autouse=True)
def _no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    monkeypatch.delenv(SIGNING_KEY_FILE_ENV, raising=False)


def test_settings_name_the_identity_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SIGNING_KEY_ENV == "CONSILIUM_IDENTITY_AUDIT_SIGNING_KEY"
    assert SIGNING_KEY_FILE_ENV == "CONSILIUM_IDENTITY_AUDIT_SIGNING_KEY_FILE"
    path = tmp_path / "mounted.pem"
    path.write_text(PEM)
    monkeypatch.setenv(SIGNING_KEY_FILE_ENV, str(path))
    settings = IdentitySettings(data_dir=tmp_path / "data")
    assert settings.audit_signing_key_file == path
    assert audit_signing_key(settings).key_id == KEY.key_id


def test_dev_publishes_the_public_key_for_the_local_ledger(tmp_path: Path) -> None:
    settings = IdentitySettings(data_dir=tmp_path, environment="dev")
    key = audit_signing_key(settings)
    published = tmp_path / DEV_TRUSTED_KEYS_PATH / f"{key.key_id}.pem"
    assert serialization.load_pem_public_key(published.read_bytes()) == key.public_key
    assert (tmp_path / "identity" / "keys" / "audit-signing-key.pem").exists()


def test_production_without_a_key_does_not_start(tmp_path: Path) -> None:
    settings = IdentitySettings(data_dir=tmp_path, environment="production")
    with pytest.raises(AuditKeyError, match="never generated in production"):
        audit_signing_key(settings)
    assert not (tmp_path / DEV_TRUSTED_KEYS_PATH).exists()


def test_production_with_a_key_publishes_nothing(tmp_path: Path) -> None:
    settings = IdentitySettings(
        data_dir=tmp_path,
        environment="production",
        audit_signing_key=PEM,
    )
    assert audit_signing_key(settings).key_id == KEY.key_id
    assert not (tmp_path / DEV_TRUSTED_KEYS_PATH).exists()
