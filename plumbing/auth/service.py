"""Service credentials: short-lived tokens one service presents to another (HS256, shared secret).

End users authenticate with identity's EdDSA access tokens; services calling each other on
their own behalf (anonymity reading persona attributes from identity) present a token made
with a secret only the services share. The secret comes from `CONSILIUM_SERVICE_SECRET` or
the file named by `CONSILIUM_SERVICE_SECRET_FILE`; in dev it is generated on first run under
the data dir, which every component of a dev system shares.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jwt

from plumbing.errors import PermissionDenied, Unauthenticated
from plumbing.grpc.caller import SERVICE_TOKEN_KEY

SECRET_ENV = "CONSILIUM_SERVICE_SECRET"
SECRET_FILE_ENV = "CONSILIUM_SERVICE_SECRET_FILE"
DEV_SECRET_PATH = Path("keys", "service-secret")
_ALGORITHM = "HS256"
_LIFETIME = 300
_MIN_SECRET = 32


class ServiceSecretError(Exception):
    """No usable shared secret: a configuration fault at startup."""


@dataclass(frozen=True, slots=True)
class ServicePrincipal:
    """A verified calling service."""

    name: str


class ServiceCredentials:
    """Mints tokens for this service's outgoing calls and checks incoming ones."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < _MIN_SECRET:
            raise ServiceSecretError(f"the service secret must be at least {_MIN_SECRET} bytes")
        self._secret = secret
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}

    @classmethod
    def load(
        cls, data_dir: Path, *, environ: Mapping[str, str] | None = None, allow_dev: bool = True
    ) -> ServiceCredentials:
        env = os.environ if environ is None else environ
        inline = env.get(SECRET_ENV, "").strip()
        if inline:
            return cls(inline.encode())
        path_text = env.get(SECRET_FILE_ENV, "").strip()
        if path_text:
            try:
                return cls(Path(path_text).read_bytes().strip())
            except OSError as exc:
                raise ServiceSecretError(
                    f"cannot read the file named by {SECRET_FILE_ENV}: {exc.strerror}"
                ) from exc
        if not allow_dev:
            raise ServiceSecretError(f"no service secret: set {SECRET_ENV} or {SECRET_FILE_ENV}")
        return cls(_load_or_create_dev_secret(data_dir / DEV_SECRET_PATH))

    def metadata(self, *, service: str, audience: str) -> tuple[tuple[str, str], ...]:
        """gRPC metadata presenting `service` to `audience`; tokens are reused until near expiry."""
        now = time.time()
        cached = self._cache.get((service, audience))
        if cached is None or cached[1] - now < _LIFETIME / 5:
            expires = now + _LIFETIME
            token = jwt.encode(
                {
                    "iss": service,
                    "sub": f"svc:{service}",
                    "aud": audience,
                    "iat": int(now),
                    "exp": int(expires),
                },
                self._secret,
                algorithm=_ALGORITHM,
            )
            cached = (token, expires)
            self._cache[(service, audience)] = cached
        return ((SERVICE_TOKEN_KEY, cached[0]),)

    def verify(self, token: str, *, audience: str) -> ServicePrincipal:
        """The calling service; Unauthenticated when the token is not valid for `audience`."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=audience,
                options={"require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("service token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("service token invalid") from exc
        name = str(claims["iss"])
        if claims["sub"] != f"svc:{name}":
            raise Unauthenticated("service token invalid")
        return ServicePrincipal(name)


def require_service(principal: ServicePrincipal | None, *allowed: str) -> ServicePrincipal:
    """The principal, if it is one of the `allowed` services; PermissionDenied otherwise."""
    if principal is None or principal.name not in allowed:
        raise PermissionDenied(f"only these services may call this: {', '.join(allowed)}")
    return principal


def _load_or_create_dev_secret(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32))
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secret)
    try:
        os.link(temporary, path)  # fails if another component won the race: use theirs
    except FileExistsError:
        return path.read_bytes().strip()
    finally:
        temporary.unlink(missing_ok=True)
    return secret
