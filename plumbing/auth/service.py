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
        """gRPC metadata presenting `service` to `audience`; reused until near expiry."""
        now = time.time()
        cached = self._cache.get((service, audience))
        if cached is None or cached[1] - now < _LIFETIME / 5:
            expires = now + _LIFETIME
            claims = {"iss": service, "sub": f"svc:{service}", "aud": audience}
            token = self.sign({**claims, "iat": int(now), "exp": int(expires)})
            cached = (token, expires)
            self._cache[(service, audience)] = cached
        return ((SERVICE_TOKEN_KEY, cached[0]),)

    def sign(self, claims: Mapping[str, object]) -> str:
        """Any claims set, signed with the shared secret (service tokens, reveal grants)."""
        return jwt.encode(dict(claims), self._secret, algorithm=_ALGORITHM)

    def decode(self, token: str, *, audience: str) -> dict[str, object]:
        """Checked claims of a token signed with the shared secret for `audience`."""
        try:
            claims: dict[str, object] = jwt.decode(
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
        return claims

    def verify(self, token: str, *, audience: str) -> ServicePrincipal:
        """The calling service; Unauthenticated when the token is not valid for `audience`."""
        claims = self.decode(token, audience=audience)
        name = str(claims["iss"])
        if "typ" in claims or claims["sub"] != f"svc:{name}":  # a grant is no service identity
            raise Unauthenticated("service token invalid")
        return ServicePrincipal(name)


@dataclass(frozen=True, slots=True)
class RevealGrant:
    """Anonymity's signed note: `actor` may read `subject`'s profile (audit record `record`)."""

    subject: str
    actor: str
    record: str


_GRANT_LIFETIME = 60
_GRANT_TYPE = "reveal-grant"


def mint_reveal_grant(credentials: ServiceCredentials, grant: RevealGrant) -> str:
    """A one-minute grant token from anonymity to identity."""
    now = int(time.time())
    return credentials.sign(
        {
            "iss": "anonymity",
            "aud": "identity",
            "typ": _GRANT_TYPE,
            "sub": grant.subject,
            "act": grant.actor,
            "rec": grant.record,
            "iat": now,
            "exp": now + _GRANT_LIFETIME,
        }
    )


def verify_reveal_grant(
    credentials: ServiceCredentials, token: str, *, subject: str, actor: str
) -> RevealGrant:
    """The grant, if valid, from anonymity, for exactly this subject and actor; else raises."""
    claims = credentials.decode(token, audience="identity")
    if (
        claims.get("iss") != "anonymity"
        or claims.get("typ") != _GRANT_TYPE
        or claims.get("sub") != subject
        or claims.get("act") != actor
    ):
        raise PermissionDenied("the reveal grant does not cover this profile or this caller")
    return RevealGrant(subject=subject, actor=actor, record=str(claims.get("rec", "")))


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
