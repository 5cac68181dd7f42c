"""A producer's audit key from its settings (identity, anonymity): its own variables, dev
publication, production."""

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
    settings_previous_key,
    settings_signing_key,
    signing_key_env,
)
from plumbing.settings import AuditProducerSettings
from services.anonymity.settings import AnonymitySettings
from services.identity.settings import IdentitySettings

KEY = AuditSigningKey.of(Ed25519PrivateKey.generate())
OLD_KEY = AuditSigningKey.of(Ed25519PrivateKey.generate())
PEM = private_pem(KEY).decode()

PRODUCERS = pytest.mark.parametrize(
    "settings_class", [IdentitySettings, AnonymitySettings], ids=lambda cls: cls.component
)


@pytest.fixture(autouse=True)
def _no_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for component in ("identity", "anonymity"):
        for name in signing_key_env(component):
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(name.replace("_SIGNING_KEY", "_PREVIOUS_SIGNING_KEY"), raising=False)


@PRODUCERS
def test_settings_name_the_components_own_variables(
    settings_class: type[AuditProducerSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"CONSILIUM_{settings_class.component.upper()}"
    key_env, file_env = signing_key_env(settings_class.component)
    assert (key_env, file_env) == (
        f"{prefix}_AUDIT_SIGNING_KEY",
        f"{prefix}_AUDIT_SIGNING_KEY_FILE",
    )
    path = tmp_path / "mounted.pem"
    path.write_text(PEM)
    monkeypatch.setenv(file_env, str(path))
    monkeypatch.setenv(f"{prefix}_AUDIT_PREVIOUS_SIGNING_KEY", private_pem(OLD_KEY).decode())
    settings = settings_class(data_dir=tmp_path / "data")
    assert settings.audit_signing_key_file == path
    assert settings_signing_key(settings).key_id == KEY.key_id
    previous = settings_previous_key(settings)
    assert previous is not None and previous.key_id == OLD_KEY.key_id


@PRODUCERS
def test_dev_publishes_the_public_key_for_the_local_ledger(
    settings_class: type[AuditProducerSettings], tmp_path: Path
) -> None:
    settings = settings_class(data_dir=tmp_path, environment="dev")
    key = settings_signing_key(settings)
    published = tmp_path / DEV_TRUSTED_KEYS_PATH / f"{key.key_id}.pem"
    assert serialization.load_pem_public_key(published.read_bytes()) == key.public_key
    assert (tmp_path / settings.component / "keys" / "audit-signing-key.pem").exists()
    assert settings_previous_key(settings) is None  # nothing was rotated yet


@PRODUCERS
def test_production_without_a_key_does_not_start(
    settings_class: type[AuditProducerSettings], tmp_path: Path
) -> None:
    settings = settings_class(data_dir=tmp_path, environment="production")
    with pytest.raises(AuditKeyError, match="never generated in production"):
        settings_signing_key(settings)
    assert not (tmp_path / DEV_TRUSTED_KEYS_PATH).exists()


@PRODUCERS
def test_production_with_a_key_publishes_nothing(
    settings_class: type[AuditProducerSettings], tmp_path: Path
) -> None:
    settings = settings_class(data_dir=tmp_path, environment="production", audit_signing_key=PEM)
    assert settings_signing_key(settings).key_id == KEY.key_id
    assert settings_previous_key(settings) is None
    assert not (tmp_path / DEV_TRUSTED_KEYS_PATH).exists()


@PRODUCERS
def test_the_erasure_log_defaults_under_the_components_directory(
    settings_class: type[AuditProducerSettings], tmp_path: Path
) -> None:
    settings = settings_class(data_dir=tmp_path)
    assert settings.resolved_erasure_log == tmp_path / settings.component / "erasure-log.jsonl"
    elsewhere = tmp_path / "append-only" / "erasures.jsonl"
    assert (
        settings_class(data_dir=tmp_path, erasure_log=elsewhere).resolved_erasure_log == elsewhere
    )
