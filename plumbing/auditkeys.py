"""A producer's Ed25519 key for its audit chain: loaded (or made, in dev) and published.

The mechanism is `plumbing.signingkeys`; this module names the audit key's variables and paths.

Where the private key comes from, first match wins:

1. `CONSILIUM_<COMPONENT>_AUDIT_SIGNING_KEY`: the PKCS#8 PEM itself (e.g. from a secret);
2. `CONSILIUM_<COMPONENT>_AUDIT_SIGNING_KEY_FILE`: a file holding that PEM (a mounted secret);
3. dev only: `<data_dir>/<component>/keys/audit-signing-key.pem`, generated once (0600).

Production (`CONSILIUM_ENV=production`) refuses to generate: a key nobody published would
make every event the ledger receives fail as UNKNOWN_KEY.

The key id is the RFC 7638 thumbprint of the public key (`plumbing.auth.jwk.key_id`), so
it is stable for a key and needs no registry. The audit ledger trusts every PEM public key
in its trusted-keys directory: in dev a producer writes `<key_id>.pem` into
`<data_dir>/audit/trusted-keys/` itself; in production the operator mounts the public keys
(a Secret or ConfigMap) where `CONSILIUM_AUDIT_TRUSTED_KEYS_DIR` points, and producers write
nothing there. A key is rotated through the chain (`plumbing.auditrotation`): the previous key
comes from `CONSILIUM_<COMPONENT>_AUDIT_PREVIOUS_SIGNING_KEY` (or `_FILE`; in dev the key
`rotate_dev_key` moved aside), and verifiers learn the new key from the KEY_ROTATED event.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TypedDict

from pydantic import SecretStr

from plumbing.settings import AuditProducerSettings
from plumbing.signingkeys import (
    KeyOrigin,
    KeySource,
    SigningKey,
    SigningKeyError,
    load_signing_key,
    parse_private_key,
    private_pem,
    publish_public_key,
)

__all__ = [
    "AuditKeyError",
    "AuditSigningKey",
    "KeyOrigin",
    "component_signing_key",
    "dev_signing_key_path",
    "load_audit_signing_key",
    "parse_signing_key",
    "previous_signing_key",
    "private_pem",
    "publish_public_key",
    "rotate_dev_key",
    "settings_previous_key",
    "settings_signing_key",
    "signing_key_env",
]

log = logging.getLogger("consilium.audit.keys")
#: The audit service's directory of trusted public keys in production (not written here).
TRUSTED_KEYS_DIR_ENV = "CONSILIUM_AUDIT_TRUSTED_KEYS_DIR"
#: Where the dev audit service looks for trusted public keys, relative to the data dir.
DEV_TRUSTED_KEYS_PATH = Path("audit", "trusted-keys")

#: The private key that signs a producer's audit events, and the id events carry.
AuditSigningKey = SigningKey


def signing_key_env(component: str) -> tuple[str, str]:
    """The variables holding a producer's key: `CONSILIUM_<C>_AUDIT_SIGNING_KEY` (PEM), `_FILE`."""
    name = f"CONSILIUM_{component.upper()}_AUDIT_SIGNING_KEY"
    return name, f"{name}_FILE"


def dev_signing_key_path(component: str) -> Path:
    """Where a producer's dev key lives, relative to the data dir."""
    return Path(component, "keys", "audit-signing-key.pem")


class AuditKeyError(SigningKeyError):
    """The audit signing key could not be loaded: a configuration fault at startup."""


def parse_signing_key(pem: bytes, *, origin: str) -> AuditSigningKey:
    """The key from a PKCS#8 PEM; errors name `origin`, never key material."""
    return parse_private_key(pem, origin=origin, error=AuditKeyError)


def load_audit_signing_key(
    component: str,
    data_dir: Path,
    *,
    allow_dev_key: bool,
    env_pem: str | None = None,
    file: Path | None = None,
) -> tuple[AuditSigningKey, KeyOrigin]:
    """From `env_pem`, else `file`, else (dev only) `<data_dir>/<component>/keys/`."""
    key_env, file_env = signing_key_env(component)
    source = KeySource(key_env, file_env, dev_signing_key_path(component), "audit signing key")
    return load_signing_key(
        source,
        data_dir,
        allow_dev_key=allow_dev_key,
        env_pem=env_pem,
        file=file,
        error=AuditKeyError,
    )


def component_signing_key(
    component: str,
    data_dir: Path,
    *,
    dev: bool,
    env_pem: str | None = None,
    file: Path | None = None,
) -> AuditSigningKey:
    """A producer's chain key at start-up; in dev its public half is published for the local
    ledger, in production the operator must mount it where the ledger looks."""
    key, origin = load_audit_signing_key(
        component, data_dir, allow_dev_key=dev, env_pem=env_pem, file=file
    )
    if dev:
        publish_public_key(key, data_dir / DEV_TRUSTED_KEYS_PATH)
        log.info(
            "%s audit signing key: %s, key id %s (published)", component, origin.value, key.key_id
        )
    else:
        log.info(
            "%s audit signing key: %s, key id %s; the ledger must trust its public key (%s)",
            component,
            origin.value,
            key.key_id,
            TRUSTED_KEYS_DIR_ENV,
        )
    return key


def dev_previous_key_path(component: str) -> Path:
    """Where `rotate_dev_key` keeps the retired dev key, relative to the data dir."""
    return Path(component, "keys", "audit-signing-key.previous.pem")


def previous_signing_key(
    component: str,
    data_dir: Path,
    *,
    dev: bool,
    env_pem: str | None = None,
    file: Path | None = None,
) -> AuditSigningKey | None:
    """The key the chain was signed with before this one, if the operator supplied it
    (`CONSILIUM_<C>_AUDIT_PREVIOUS_SIGNING_KEY` or `_FILE`; in dev, the key `rotate_dev_key`
    moved aside): the start-up rotation signs its KEY_ROTATED event with it."""
    if env_pem:
        name = signing_key_env(component)[0].replace("_SIGNING_KEY", "_PREVIOUS_SIGNING_KEY")
        return parse_signing_key(env_pem.replace("\\n", "\n").encode(), origin=name)
    path = file if file is not None else (data_dir / dev_previous_key_path(component))
    if file is None and not dev:
        return None
    if not path.exists():
        if file is not None:
            raise AuditKeyError(f"the previous audit signing key file {path} does not exist")
        return None
    return parse_signing_key(path.read_bytes(), origin=str(path))


def rotate_dev_key(component: str, data_dir: Path) -> tuple[str, str]:
    """Dev only: the dev key becomes the previous key and a new one is made; the component
    writes the KEY_ROTATED event at its next start. Returns (old key id, new key id)."""
    current = data_dir / dev_signing_key_path(component)
    if not current.exists():
        raise AuditKeyError(f"no dev audit key at {current}: start {component} once first")
    old = parse_signing_key(current.read_bytes(), origin=str(current))
    current.replace(data_dir / dev_previous_key_path(component))
    new, _ = load_audit_signing_key(component, data_dir, allow_dev_key=True, env_pem="")
    return old.key_id, new.key_id


def settings_signing_key(settings: AuditProducerSettings) -> AuditSigningKey:
    """`component_signing_key` from a producer's settings (env PEM, then file, then dev)."""
    return component_signing_key(
        settings.component,
        settings.data_dir,
        **_sources(settings, settings.audit_signing_key, settings.audit_signing_key_file),
    )


def settings_previous_key(settings: AuditProducerSettings) -> AuditSigningKey | None:
    """`previous_signing_key` from a producer's settings: the key to rotate from, if any."""
    return previous_signing_key(
        settings.component,
        settings.data_dir,
        **_sources(
            settings, settings.audit_previous_signing_key, settings.audit_previous_signing_key_file
        ),
    )


def _sources(
    settings: AuditProducerSettings, secret: SecretStr | None, file: Path | None
) -> _KeySources:
    return {
        "dev": settings.environment == "dev",
        "env_pem": secret.get_secret_value() if secret else None,
        "file": file,
    }


class _KeySources(TypedDict):
    dev: bool
    env_pem: str | None
    file: Path | None
