"""Service identities' keys: each service's own Ed25519 key, and its peers' pinned public keys.

Every service signs its outgoing service tokens with its own private key (and anonymity its
reveal grants); a receiving service checks them against the public key pinned for the service
the token claims to come from. No service holds another's private key.

- own private key, production: `CONSILIUM_<SERVICE>_SERVICE_KEY` (a PKCS#8 PEM) or
  `CONSILIUM_<SERVICE>_SERVICE_KEY_FILE`; dev: generated once at
  `<data dir>/keys/<service>/service-key.pem` (0600, directory 0700);
- a peer's public key, production: `CONSILIUM_<PEER>_SERVICE_PUBLIC_KEY` (a PEM) or
  `CONSILIUM_<PEER>_SERVICE_PUBLIC_KEY_FILE`; dev: `<data dir>/keys/public/<peer>.pem`, which
  each dev service publishes at start (the environment still wins when set).

The loading and publishing are `plumbing.signingkeys`, as for the audit chain keys.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from plumbing.auth.jwk import key_id
from plumbing.signingkeys import (
    KeySource,
    SigningKey,
    SigningKeyError,
    load_signing_key,
    parse_public_key,
    publish_public_key,
)

log = logging.getLogger("consilium.auth.service")

#: The services that may hold a service identity; a token naming anything else is refused.
SERVICES = frozenset({"identity", "anonymity", "content", "audit", "gateway"})
#: Where dev services publish their public keys, relative to the data dir.
DEV_PUBLIC_KEYS_PATH = Path("keys", "public")


class ServiceKeyError(SigningKeyError):
    """A service key could not be loaded: a configuration fault at startup."""


def service_key_env(service: str) -> tuple[str, str]:
    """`CONSILIUM_<SERVICE>_SERVICE_KEY` (the private PEM) and its `_FILE` twin."""
    name = f"CONSILIUM_{service.upper()}_SERVICE_KEY"
    return name, f"{name}_FILE"


def public_key_env(service: str) -> tuple[str, str]:
    """`CONSILIUM_<SERVICE>_SERVICE_PUBLIC_KEY` (a peer's public PEM) and its `_FILE` twin."""
    name = f"CONSILIUM_{service.upper()}_SERVICE_PUBLIC_KEY"
    return name, f"{name}_FILE"


def dev_service_key_path(service: str) -> Path:
    """A dev service's private key, relative to the data dir."""
    return Path("keys", service, "service-key.pem")


def load_service_key(
    service: str, data_dir: Path, *, dev: bool, environ: Mapping[str, str] | None = None
) -> SigningKey:
    """The service's own key; in dev generated once and its public half published."""
    if service not in SERVICES:
        raise ServiceKeyError(f"unknown service {service!r}")
    key_env, file_env = service_key_env(service)
    source = KeySource(key_env, file_env, dev_service_key_path(service), "service key")
    env = dict(os.environ if environ is None else environ)
    key, origin = load_signing_key(
        source, data_dir, allow_dev_key=dev, environ=env, error=ServiceKeyError
    )
    if dev:
        publish_public_key(key, data_dir / DEV_PUBLIC_KEYS_PATH, name=service)
    log.info("%s service key: %s, key id %s", service, origin.value, key.key_id)
    return key


#: The services that hold a service key: they sign calls (gateway, anonymity) or may be called.
KEYED_SERVICES = ("identity", "anonymity", "content", "gateway", "audit")


def prepare_dev_service_keys(data_dir: Path) -> list[str]:
    """Makes (once) and publishes every dev service key before the services start; returns
    the services whose key was new. Each service would make its own at start anyway; doing it
    up front means no service ever waits for a peer's key to appear."""
    made = [s for s in KEYED_SERVICES if not (data_dir / dev_service_key_path(s)).exists()]
    for service in KEYED_SERVICES:
        load_service_key(service, data_dir, dev=True, environ=None)
    return made


class PeerKeys:
    """The public keys of peer services, pinned by service name.

    From the environment when set (production); in dev, else from the published files, read
    when first needed (a peer may start after us) and re-read when a token names another key
    id (the peer's dev key was regenerated).
    """

    def __init__(
        self,
        data_dir: Path | None,
        *,
        dev: bool,
        environ: Mapping[str, str] | None = None,
        pinned: Mapping[str, Ed25519PublicKey] | None = None,
    ) -> None:
        self._dir = data_dir / DEV_PUBLIC_KEYS_PATH if data_dir is not None and dev else None
        self._env = dict(os.environ if environ is None else environ)
        self._keys: dict[str, tuple[Ed25519PublicKey, str]] = {}
        self._lock = threading.Lock()
        for service, key in (pinned or {}).items():
            self._keys[service] = (key, key_id(key))
        for service in SERVICES - set(self._keys):
            found = self._from_env(service)
            if found is not None:
                self._keys[service] = (found, key_id(found))
        self._fixed = frozenset(self._keys)
        self._dev = dev

    def require(self, services: Iterable[str]) -> None:
        """Fails at startup, outside dev, when a peer this service admits has no pinned key:
        every call from it would be refused, better to say so before serving. In dev the
        published keys are read when first needed (a peer may start later)."""
        if self._dev:
            return
        missing = sorted(set(services) - set(self._keys))
        if missing:
            names = ", ".join(public_key_env(s)[0] for s in missing)
            raise ServiceKeyError(f"no pinned public key for {', '.join(missing)}: set {names}")

    @classmethod
    def pinned(cls, keys: Mapping[str, Ed25519PublicKey]) -> PeerKeys:
        """Exactly these keys, nothing from the environment or files (tests, tools)."""
        return cls(None, dev=False, environ={}, pinned=keys)

    def get(self, service: str, kid: str | None = None) -> Ed25519PublicKey | None:
        """The pinned key of `service`, or None when none is known."""
        if service not in SERVICES:
            return None
        with self._lock:
            known = self._keys.get(service)
            stale = known is None or (kid is not None and kid != known[1])
            if stale and service not in self._fixed and self._dir is not None:
                path = self._dir / f"{service}.pem"
                try:
                    found = parse_public_key(path.read_bytes(), origin=str(path))
                except (OSError, SigningKeyError):
                    found = None
                if found is not None:
                    known = self._keys[service] = (found, key_id(found))
            return known[0] if known else None

    def _from_env(self, service: str) -> Ed25519PublicKey | None:
        key_env, file_env = public_key_env(service)
        inline = self._env.get(key_env, "").strip()
        if inline:
            pem = inline.replace("\\n", "\n").encode()
            return parse_public_key(pem, origin=key_env, error=ServiceKeyError)
        path = self._env.get(file_env, "").strip()
        if path:
            try:
                pem = Path(path).read_bytes()
            except OSError as exc:
                raise ServiceKeyError(f"{file_env}: cannot read {path}") from exc
            return parse_public_key(pem, origin=path, error=ServiceKeyError)
        return None
