"""Ed25519 signing keys of one component: loaded from env or a file, or made once in dev, and
their public halves published where the dev components that verify them look.

The one mechanism behind every key a component signs with: its audit chain key
(`plumbing.auditkeys`) and its service identity (`plumbing.auth.servicekeys`). Where a private
key comes from, first match wins: an inline PKCS#8 PEM in an environment variable (e.g. from a
secret), a file named by another variable (a mounted secret), and in dev only a key generated
once under the data dir (0600, its directory 0700). Production refuses to generate one: a key
nobody published would make everything it signs fail to verify.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from plumbing.auth.jwk import key_id


class KeyOrigin(enum.Enum):
    """Where the signing key came from; worth a line in the startup log."""

    ENV = "env"
    FILE = "file"
    DEV_KEY_LOADED = "dev-key-loaded"
    DEV_KEY_GENERATED = "dev-key-generated"


class SigningKeyError(Exception):
    """A signing key could not be loaded: a configuration fault at startup."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 private key and its id (the RFC 7638 thumbprint of its public key)."""

    private_key: Ed25519PrivateKey
    key_id: str

    @classmethod
    def of(cls, private_key: Ed25519PrivateKey) -> SigningKey:
        return cls(private_key, key_id(private_key.public_key()))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls.of(Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def public_pem(self) -> bytes:
        return public_pem(self.public_key)


@dataclass(frozen=True, slots=True)
class KeySource:
    """Where one key may come from: `<key_env>` (PEM), `<file_env>` (a path), a dev file."""

    key_env: str
    file_env: str
    dev_path: Path
    what: str = "signing key"


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_pem(key: SigningKey) -> bytes:
    return key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def parse_private_key(
    pem: bytes, *, origin: str, error: type[Exception] = SigningKeyError
) -> SigningKey:
    """The key from a PKCS#8 PEM; errors name `origin`, never key material."""
    try:
        private_key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise error(f"{origin}: expected an unencrypted PKCS#8 PEM Ed25519 key") from exc
    if not isinstance(private_key, Ed25519PrivateKey):
        raise error(f"{origin}: the key must be Ed25519")
    return SigningKey.of(private_key)


def parse_public_key(
    pem: bytes, *, origin: str, error: type[Exception] = SigningKeyError
) -> Ed25519PublicKey:
    """A public key from a SubjectPublicKeyInfo PEM; errors name `origin`."""
    try:
        public_key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise error(f"{origin}: expected a PEM Ed25519 public key") from exc
    if not isinstance(public_key, Ed25519PublicKey):
        raise error(f"{origin}: the public key must be Ed25519")
    return public_key


def load_signing_key(
    source: KeySource,
    data_dir: Path,
    *,
    allow_dev_key: bool,
    env_pem: str | None = None,
    file: Path | None = None,
    environ: dict[str, str] | None = None,
    error: type[Exception] = SigningKeyError,
) -> tuple[SigningKey, KeyOrigin]:
    """From `env_pem` (else `source.key_env`), else `file` (else `source.file_env`), else
    (dev only) `<data_dir>/<source.dev_path>`, generated on first use."""
    env = os.environ if environ is None else environ
    env_pem = env_pem if env_pem is not None else env.get(source.key_env)
    if env_pem:
        # Values from some secret stores arrive with literal `\n` escapes.
        pem = env_pem.replace("\\n", "\n").encode()
        return parse_private_key(pem, origin=source.key_env, error=error), KeyOrigin.ENV
    if file is None and env.get(source.file_env):
        file = Path(env[source.file_env])
    if file is not None:
        try:
            pem = file.read_bytes()
        except OSError as exc:
            raise error(f"{source.file_env}: cannot read {file}") from exc
        return parse_private_key(pem, origin=str(file), error=error), KeyOrigin.FILE
    if not allow_dev_key:
        raise error(
            f"no {source.what}: set {source.key_env} or {source.file_env} "
            "(an Ed25519 PKCS#8 PEM; a dev key is never generated in production)"
        )
    return _dev_key(data_dir / source.dev_path, error)


def _dev_key(path: Path, error: type[Exception]) -> tuple[SigningKey, KeyOrigin]:
    if path.exists():
        loaded = parse_private_key(path.read_bytes(), origin=str(path), error=error)
        return loaded, KeyOrigin.DEV_KEY_LOADED
    key = SigningKey.generate()
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
        loaded = parse_private_key(path.read_bytes(), origin=str(path), error=error)
        return loaded, KeyOrigin.DEV_KEY_LOADED
    finally:
        temporary.unlink(missing_ok=True)
    return key, KeyOrigin.DEV_KEY_GENERATED


def publish_public_key(key: SigningKey, directory: Path, *, name: str | None = None) -> Path:
    """Writes `<directory>/<name or key_id>.pem` (the public key only) unless it is there."""
    path = directory / f"{name or key.key_id}.pem"
    pem = key.public_pem()
    if path.exists() and path.read_bytes() == pem:
        return path
    directory.mkdir(parents=True, exist_ok=True)
    # Replaced atomically, so a verifier never loads half a key.
    temporary = directory / f".{path.stem}.{os.getpid()}.tmp"
    temporary.write_bytes(pem)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
    return path
