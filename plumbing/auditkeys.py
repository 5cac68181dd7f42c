"""A producer's Ed25519 key for its audit chain: loaded (or made, in dev) and published.

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
nothing there. On rotation keep the old public key there while its events must verify.
"""

from __future__ import annotations

import enum
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from plumbing.auth.jwk import key_id

log = logging.getLogger("consilium.audit.keys")
#: The audit service's directory of trusted public keys in production (not written here).
TRUSTED_KEYS_DIR_ENV = "CONSILIUM_AUDIT_TRUSTED_KEYS_DIR"
#: Where the dev audit service looks for trusted public keys, relative to the data dir.
DEV_TRUSTED_KEYS_PATH = Path("audit", "trusted-keys")


class KeyOrigin(enum.Enum):
    """Where the signing key came from; worth a line in the startup log."""

    ENV = "env"
    FILE = "file"
    DEV_KEY_LOADED = "dev-key-loaded"
    DEV_KEY_GENERATED = "dev-key-generated"


def signing_key_env(component: str) -> tuple[str, str]:
    """The variables holding a producer's key: `CONSILIUM_<C>_AUDIT_SIGNING_KEY` (PEM), `_FILE`."""
    name = f"CONSILIUM_{component.upper()}_AUDIT_SIGNING_KEY"
    return name, f"{name}_FILE"


def dev_signing_key_path(component: str) -> Path:
    """Where a producer's dev key lives, relative to the data dir."""
    return Path(component, "keys", "audit-signing-key.pem")


class AuditKeyError(Exception):
    """The audit signing key could not be loaded: a configuration fault at startup."""


@dataclass(frozen=True, slots=True)
class AuditSigningKey:
    """The private key that signs a producer's audit events, and the id events carry."""

    private_key: Ed25519PrivateKey
    key_id: str

    @classmethod
    def of(cls, private_key: Ed25519PrivateKey) -> AuditSigningKey:
        return cls(private_key, key_id(private_key.public_key()))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def parse_signing_key(pem: bytes, *, origin: str) -> AuditSigningKey:
    """The key from a PKCS#8 PEM; errors name `origin`, never key material."""
    try:
        private_key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise AuditKeyError(f"{origin}: expected an unencrypted PKCS#8 PEM Ed25519 key") from exc
    if not isinstance(private_key, Ed25519PrivateKey):
        raise AuditKeyError(f"{origin}: the audit signing key must be Ed25519")
    return AuditSigningKey.of(private_key)


def private_pem(key: AuditSigningKey) -> bytes:
    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


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
    env_pem = env_pem if env_pem is not None else os.environ.get(key_env)
    if env_pem:
        return parse_signing_key(env_pem.encode(), origin=key_env), KeyOrigin.ENV
    if file is None and os.environ.get(file_env):
        file = Path(os.environ[file_env])
    if file is not None:
        try:
            pem = file.read_bytes()
        except OSError as exc:
            raise AuditKeyError(f"{file_env}: cannot read {file}") from exc
        return parse_signing_key(pem, origin=str(file)), KeyOrigin.FILE
    if not allow_dev_key:
        raise AuditKeyError(
            f"no audit signing key: set {key_env} or {file_env} "
            "(an Ed25519 PKCS#8 PEM; a dev key is never generated in production)"
        )
    return _dev_key(data_dir / dev_signing_key_path(component))


def _dev_key(path: Path) -> tuple[AuditSigningKey, KeyOrigin]:
    if path.exists():
        return parse_signing_key(path.read_bytes(), origin=str(path)), KeyOrigin.DEV_KEY_LOADED
    key = AuditSigningKey.of(Ed25519PrivateKey.generate())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written whole to a private temporary file, then linked into place: of two processes
    # starting at once, one link wins and the other reads the winner's complete file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_pem(key))
    try:
        os.link(temporary, path)
    except FileExistsError:
        return parse_signing_key(path.read_bytes(), origin=str(path)), KeyOrigin.DEV_KEY_LOADED
    finally:
        temporary.unlink(missing_ok=True)
    return key, KeyOrigin.DEV_KEY_GENERATED


def publish_public_key(key: AuditSigningKey, directory: Path) -> Path:
    """Writes `<directory>/<key_id>.pem` (the public key only) unless it is already there."""
    path = directory / f"{key.key_id}.pem"
    pem = key.public_pem()
    if path.exists() and path.read_bytes() == pem:
        return path
    directory.mkdir(parents=True, exist_ok=True)
    # Replaced atomically, so the ledger never loads half a key.
    temporary = directory / f".{key.key_id}.{os.getpid()}.tmp"
    temporary.write_bytes(pem)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
    return path


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
