"""Ed25519 (EdDSA) access tokens: the key ring that signs them and the verifier that checks them."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from plumbing.auth.claims import (
    AUDIENCE,
    DEFAULT_TTL,
    ISSUER,
    AccessClaims,
    Role,
    VerificationStatus,
    new_claims,
)
from plumbing.auth.jwk import ALGORITHM, key_id, public_jwk
from plumbing.auth.verifier import DEFAULT_LEEWAY, Clock, TokenVerifier, utc_now

__all__ = [
    "ALGORITHM",
    "AUDIENCE",
    "DEFAULT_LEEWAY",
    "DEFAULT_TTL",
    "DEV_KEY_PATH",
    "ISSUER",
    "SIGNING_KEY_ENV",
    "SIGNING_KEY_FILE_ENV",
    "AccessClaims",
    "Clock",
    "IssuedToken",
    "KeyRing",
    "KeyRingError",
    "KeySource",
    "TokenIssuer",
    "TokenVerifier",
    "key_id",
    "load_verify_key_pem",
    "public_jwk",
    "utc_now",
]

SIGNING_KEY_ENV = "CONSILIUM_IDENTITY_SIGNING_KEY"
SIGNING_KEY_FILE_ENV = "CONSILIUM_IDENTITY_SIGNING_KEY_FILE"
#: Where a development key is kept, relative to the data dir.
DEV_KEY_PATH = Path("identity", "keys", "signing-key.pem")


class KeyRingError(Exception):
    """The signing key could not be loaded or created: a configuration fault at startup."""


class KeySource(enum.Enum):
    """Where the signing key came from; worth a line in the startup log."""

    ENV = "env"
    FILE = "file"
    DEV_KEY_LOADED = "dev-key-loaded"
    DEV_KEY_GENERATED = "dev-key-generated"
    GIVEN = "given"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A signed compact JWT and the claims it carries."""

    token: str = field(repr=False)
    claims: AccessClaims


def load_verify_key_pem(pem: bytes | str) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM holding either the public or the private key."""
    data = pem.encode() if isinstance(pem, str) else pem
    if b"PRIVATE KEY" in data:
        return _load_private_pem(data, origin="verify key").public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise KeyRingError("verify key: not a PEM-encoded public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyRingError("verify key: not an Ed25519 key")
    return key


class KeyRing:
    """The key that signs new tokens plus older public keys that still verify (rotation)."""

    def __init__(
        self,
        signing_key: Ed25519PrivateKey,
        *,
        verify_keys: Iterable[Ed25519PublicKey] = (),
        source: KeySource = KeySource.GIVEN,
    ) -> None:
        self._signing_key = signing_key
        self._signing_kid = key_id(signing_key.public_key())
        self._source = source
        self._public: dict[str, Ed25519PublicKey] = {self._signing_kid: signing_key.public_key()}
        for public_key in verify_keys:
            self.add_verify_key(public_key)

    @classmethod
    def load(
        cls,
        data_dir: Path,
        *,
        environ: Mapping[str, str] | None = None,
        allow_dev_key: bool = True,
        verify_keys: Iterable[Ed25519PublicKey] = (),
    ) -> KeyRing:
        """Load the signing key from the first source that has one.

        1. `CONSILIUM_IDENTITY_SIGNING_KEY`: a PEM (PKCS#8) Ed25519 private key; literal
           `\\n` sequences are accepted for environments that cannot hold newlines.
        2. `CONSILIUM_IDENTITY_SIGNING_KEY_FILE`: the path of such a PEM.
        3. `<data_dir>/identity/keys/signing-key.pem`, created (mode 0600) on first run
           when `allow_dev_key`; production settings should pass False so a missing
           secret fails startup instead of minting a key no other replica knows.
        """
        env = os.environ if environ is None else environ
        inline = env.get(SIGNING_KEY_ENV, "").strip()
        if inline:
            if "\n" not in inline:
                inline = inline.replace("\\n", "\n")
            key = _load_private_pem(inline.encode(), origin=SIGNING_KEY_ENV)
            return cls(key, verify_keys=verify_keys, source=KeySource.ENV)
        key_file = env.get(SIGNING_KEY_FILE_ENV, "").strip()
        if key_file:
            try:
                data = Path(key_file).read_bytes()
            except OSError as exc:
                raise KeyRingError(
                    f"cannot read the file named by {SIGNING_KEY_FILE_ENV}: {exc.strerror}"
                ) from exc
            key = _load_private_pem(data, origin=SIGNING_KEY_FILE_ENV)
            return cls(key, verify_keys=verify_keys, source=KeySource.FILE)
        if not allow_dev_key:
            raise KeyRingError(
                f"no signing key: set {SIGNING_KEY_ENV} or {SIGNING_KEY_FILE_ENV} "
                "to an Ed25519 private key in PEM form"
            )
        key, source = _load_or_create_dev_key(data_dir / DEV_KEY_PATH)
        return cls(key, verify_keys=verify_keys, source=source)

    @property
    def signing_kid(self) -> str:
        """The kid of the key new tokens are signed with."""
        return self._signing_kid

    @property
    def source(self) -> KeySource:
        """Where the signing key came from."""
        return self._source

    def add_verify_key(self, public_key: Ed25519PublicKey) -> str:
        """Accept tokens signed by `public_key` (e.g. the key before a rotation); its kid."""
        kid = key_id(public_key)
        self._public.setdefault(kid, public_key)
        return kid

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every key that verifies, by kid; the signing key first."""
        return dict(self._public)

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set that verifiers (the gateway) load: public keys only."""
        return {"keys": [public_jwk(public_key) for public_key in self._public.values()]}

    def sign(self, payload: Mapping[str, Any]) -> str:
        """A compact JWS of `payload` signed with the signing key, its kid in the header."""
        return jwt.encode(
            dict(payload),
            self._signing_key,
            algorithm=ALGORITHM,
            headers={"kid": self._signing_kid},
        )

    def verifier(
        self, *, clock: Clock = utc_now, leeway: timedelta = DEFAULT_LEEWAY
    ) -> TokenVerifier:
        """A verifier that trusts exactly this ring's public keys."""
        return TokenVerifier(self.public_keys(), clock=clock, leeway=leeway)


class TokenIssuer:
    """Issues short-lived access tokens for authenticated physicians."""

    def __init__(
        self, keys: KeyRing, *, ttl: timedelta = DEFAULT_TTL, clock: Clock = utc_now
    ) -> None:
        if ttl < timedelta(seconds=1):
            raise ValueError("token lifetime must be at least one second")
        self._keys = keys
        self._ttl = ttl
        self._clock = clock

    def issue(
        self, user_id: str, roles: Iterable[Role], verification: VerificationStatus
    ) -> IssuedToken:
        """Sign a token for `user_id`; it expires `ttl` after now."""
        claims = new_claims(
            user_id=user_id,
            roles=roles,
            verification=verification,
            now=self._clock(),
            ttl=self._ttl,
            key_id=self._keys.signing_kid,
        )
        return IssuedToken(token=self._keys.sign(claims.to_payload()), claims=claims)


def _load_or_create_dev_key(path: Path) -> tuple[Ed25519PrivateKey, KeySource]:
    if path.exists():
        return _load_private_pem(path.read_bytes(), origin=str(path)), KeySource.DEV_KEY_LOADED
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Write a private temporary file, then link it into place: os.link fails if another
    # process won the race, and then both use the winner's key.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _load_private_pem(path.read_bytes(), origin=str(path)), KeySource.DEV_KEY_LOADED
    finally:
        temporary.unlink(missing_ok=True)
    return key, KeySource.DEV_KEY_GENERATED


def _load_private_pem(data: bytes, *, origin: str) -> Ed25519PrivateKey:
    # Error messages name the origin (an env var or a path), never any key material.
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyRingError(f"{origin}: not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyRingError(f"{origin}: not an Ed25519 key")
    return key
