"""Loads the Ed25519 key that signs identity's audit chain, and publishes its public half.

Where the private key comes from, first match wins:

1. `CONSILIUM_IDENTITY_AUDIT_SIGNING_KEY`: the PKCS#8 PEM itself (e.g. from a secret);
2. `CONSILIUM_IDENTITY_AUDIT_SIGNING_KEY_FILE`: a file holding that PEM (a mounted secret);
3. dev only: `<data_dir>/identity/keys/audit-signing-key.pem`, generated once (0600).

Production (`CONSILIUM_ENV=production`) refuses to generate: a key nobody published would
make every event the ledger receives fail as UNKNOWN_KEY.

The key id is the RFC 7638 thumbprint of the public key (`plumbing.auth.jwk.key_id`), so
it is stable for a key and needs no registry. The audit ledger trusts every PEM public key
in its trusted-keys directory: in dev identity writes `<key_id>.pem` into
`<data_dir>/audit/trusted-keys/` itself; in production the operator mounts the public keys
(a Secret or ConfigMap) where `CONSILIUM_AUDIT_TRUSTED_KEYS_DIR` points, and identity
writes nothing there. On rotation keep the old public key in that directory for as long as
events signed with it must verify.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from plumbing.auth.jwk import key_id
from services.identity.tokens import KeySource

SIGNING_KEY_ENV = "CONSILIUM_IDENTITY_AUDIT_SIGNING_KEY"
SIGNING_KEY_FILE_ENV = "CONSILIUM_IDENTITY_AUDIT_SIGNING_KEY_FILE"
#: The audit service's directory of trusted public keys in production (not written here).
TRUSTED_KEYS_DIR_ENV = "CONSILIUM_AUDIT_TRUSTED_KEYS_DIR"
#: Where the dev signing key lives, relative to the data dir.
DEV_SIGNING_KEY_PATH = Path("identity", "keys", "audit-signing-key.pem")
#: Where the dev audit service looks for trusted public keys, relative to the data dir.
DEV_TRUSTED_KEYS_PATH = Path("audit", "trusted-keys")


class AuditKeyError(Exception):
    """The audit signing key could not be loaded: a configuration fault at startup."""


@dataclass(frozen=True, slots=True)
class AuditSigningKey:
    """The private key that signs identity's audit events, and the id events carry."""

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
    data_dir: Path,
    *,
    allow_dev_key: bool,
    env_pem: str | None = None,
    file: Path | None = None,
) -> tuple[AuditSigningKey, KeySource]:
    """From `env_pem`, else `file`, else (dev only) `<data_dir>/identity/keys/`."""
    env_pem = env_pem if env_pem is not None else os.environ.get(SIGNING_KEY_ENV)
    if env_pem:
        return parse_signing_key(env_pem.encode(), origin=SIGNING_KEY_ENV), KeySource.ENV
    if file is None and os.environ.get(SIGNING_KEY_FILE_ENV):
        file = Path(os.environ[SIGNING_KEY_FILE_ENV])
    if file is not None:
        try:
            pem = file.read_bytes()
        except OSError as exc:
            raise AuditKeyError(f"{SIGNING_KEY_FILE_ENV}: cannot read {file}") from exc
        return parse_signing_key(pem, origin=str(file)), KeySource.FILE
    if not allow_dev_key:
        raise AuditKeyError(
            f"no audit signing key: set {SIGNING_KEY_ENV} or {SIGNING_KEY_FILE_ENV} "
            "(an Ed25519 PKCS#8 PEM; a dev key is never generated in production)"
        )
    return _dev_key(data_dir / DEV_SIGNING_KEY_PATH)


def _dev_key(path: Path) -> tuple[AuditSigningKey, KeySource]:
    if path.exists():
        return parse_signing_key(path.read_bytes(), origin=str(path)), KeySource.DEV_KEY_LOADED
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
        return parse_signing_key(path.read_bytes(), origin=str(path)), KeySource.DEV_KEY_LOADED
    finally:
        temporary.unlink(missing_ok=True)
    return key, KeySource.DEV_KEY_GENERATED


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
