"""Service credentials: short-lived EdDSA tokens one service presents to another, reveal grants,
and the per-method list of services a server admits.

End users authenticate with identity's access tokens; services calling each other on their
own behalf present a token signed with their own key (`plumbing.auth.servicekeys`), checked
against the public key pinned for the service it claims to be. A token names its issuer and
its audience, so one service's token is neither another's identity nor good at a third
service. Reveal grants are signed by anonymity's key alone and checked against it alone:
whoever can verify them cannot mint them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jwt

from plumbing.auth.servicekeys import PeerKeys, ServiceKeyError, load_service_key
from plumbing.auth.verified import VerifiedCache, token_digest
from plumbing.errors import PermissionDenied, Unauthenticated
from plumbing.grpc.caller import SERVICE_TOKEN_KEY
from plumbing.signingkeys import SigningKey

__all__ = [
    "CallerPolicy",
    "RevealGrant",
    "ServiceCredentials",
    "ServiceKeyError",
    "ServicePrincipal",
    "mint_reveal_grant",
    "require_service",
    "verify_reveal_grant",
]

_ALGORITHM = "EdDSA"
_LIFETIME = 300
_LEEWAY = 5


@dataclass(frozen=True, slots=True)
class ServicePrincipal:
    """A verified calling service."""

    name: str


#: Service tokens remembered as verified at most (a few per peer and audience in practice).
_VERIFIED_CAPACITY = 4_096


class ServiceCredentials:
    """This service's key (to sign its calls and grants) and its peers' pinned public keys.

    A service token that verified is remembered until its own expiry (`plumbing.auth.verified`):
    a peer reuses its token for minutes, so its signature is checked once, not at every call.
    """

    def __init__(
        self,
        name: str,
        key: SigningKey,
        peers: PeerKeys,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self._key = key
        self._peers = peers
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}
        self._verified: VerifiedCache[ServicePrincipal] = VerifiedCache(_VERIFIED_CAPACITY)

    @classmethod
    def load(
        cls,
        service: str,
        data_dir: Path,
        *,
        environ: Mapping[str, str] | None = None,
        allow_dev: bool = True,
    ) -> ServiceCredentials:
        """The service's own key and its peers' keys (see `plumbing.auth.servicekeys`)."""
        env = dict(os.environ if environ is None else environ)
        key = load_service_key(service, data_dir, dev=allow_dev, environ=env)
        return cls(service, key, PeerKeys(data_dir, dev=allow_dev, environ=env))

    @property
    def key(self) -> SigningKey:
        return self._key

    def require_peers(self, *services: str) -> None:
        """ServiceKeyError at startup (outside dev) unless each of `services` has a pinned key."""
        self._peers.require(services)

    def metadata(self, *, audience: str, service: str | None = None) -> tuple[tuple[str, str]]:
        """gRPC metadata presenting this service to `audience`; reused until near expiry.

        `service`, if given, must be this service's own name: a service speaks only for itself.
        """
        if service is not None and service != self.name:
            raise ValueError(f"the {self.name} service cannot present itself as {service}")
        now = time.time()
        cached = self._cache.get(audience)
        if cached is None or cached[1] - now < _LIFETIME / 5:
            expires = now + _LIFETIME
            claims = {"iss": self.name, "sub": f"svc:{self.name}", "aud": audience}
            token = self.sign({**claims, "iat": int(now), "exp": int(expires)})
            cached = (token, expires)
            self._cache[audience] = cached
        return ((SERVICE_TOKEN_KEY, cached[0]),)

    def sign(self, claims: Mapping[str, object]) -> str:
        """Any claims set, signed with this service's own key (service tokens, grants)."""
        return jwt.encode(
            dict(claims),
            self._key.private_key,
            algorithm=_ALGORITHM,
            headers={"kid": self._key.key_id},
        )

    def decode(self, token: str, *, audience: str, issuer: str | None = None) -> dict[str, object]:
        """Checked claims of a token for `audience`, signed by the pinned key of `issuer` (by
        default: of the service the token names as its issuer)."""
        try:
            header = jwt.get_unverified_header(token)
            claimed = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("service token invalid") from exc
        signer = issuer or (claimed if isinstance(claimed, str) else "")
        kid = header.get("kid")
        public_key = self._peers.get(signer, kid if isinstance(kid, str) else None)
        if public_key is None:
            raise Unauthenticated("service token from a service whose key is not pinned here")
        try:
            claims: dict[str, object] = jwt.decode(
                token,
                public_key,
                algorithms=[_ALGORITHM],
                audience=audience,
                issuer=signer,
                leeway=_LEEWAY,
                # Expiry is checked below on this instance's clock (the one its cache uses).
                options={"require": ["iss", "sub", "aud", "exp"], "verify_exp": False},
            )
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("service token invalid") from exc
        if self._clock() >= _expiry(claims) + _LEEWAY:
            raise Unauthenticated("service token expired")
        return claims

    def verify(self, token: str, *, audience: str) -> ServicePrincipal:
        """The calling service; Unauthenticated when the token is not valid for `audience`."""
        digest = token_digest(token, audience)
        # Remembered until `exp` only: past it, the full check (with its leeway) decides.
        known = self._verified.get(digest, self._clock())
        if known is not None:
            return known
        claims = self.decode(token, audience=audience)
        name = str(claims["iss"])
        if "typ" in claims or claims["sub"] != f"svc:{name}":  # a grant is no service identity
            raise Unauthenticated("service token invalid")
        principal = ServicePrincipal(name)
        self._verified.put(digest, principal, _expiry(claims))
        return principal


def _expiry(claims: Mapping[str, object]) -> float:
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        raise Unauthenticated("service token invalid")
    return float(expires)


@dataclass(frozen=True, slots=True)
class RevealGrant:
    """Anonymity's signed note: `actor` may read `subject`'s profile (audit record `record`)."""

    subject: str
    actor: str
    record: str


_GRANT_LIFETIME = 60
_GRANT_TYPE = "reveal-grant"
_GRANTOR = "anonymity"


def mint_reveal_grant(credentials: ServiceCredentials, grant: RevealGrant) -> str:
    """A one-minute grant token from anonymity to identity, signed with anonymity's key."""
    if credentials.name != _GRANTOR:
        raise ValueError(f"only {_GRANTOR} signs reveal grants, not {credentials.name}")
    now = int(time.time())
    return credentials.sign(
        {
            "iss": _GRANTOR,
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
    """The grant, if signed by anonymity's key, for exactly this subject and actor; else raises."""
    try:
        claims = credentials.decode(token, audience="identity", issuer=_GRANTOR)
    except Unauthenticated as exc:
        raise PermissionDenied("the reveal grant is not valid") from exc
    if (
        claims.get("typ") != _GRANT_TYPE
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


Metadata = Sequence[tuple[str, str | bytes]]


class CallerPolicy:
    """Which services may call each method of one server; a server checks it before any handler.

    `default` lists the services admitted to every method not named in `methods`; a method
    mapped to no service is refused to everyone (kept in the contract, offered to no caller).
    """

    def __init__(
        self,
        credentials: ServiceCredentials,
        *,
        default: Sequence[str],
        methods: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._credentials = credentials
        self._default = tuple(default)
        self._methods = {name: tuple(allowed) for name, allowed in (methods or {}).items()}
        credentials.require_peers(*self._default, *(s for a in self._methods.values() for s in a))

    def allowed(self, method: str) -> tuple[str, ...]:
        return self._methods.get(method.rsplit("/", 1)[-1], self._default)

    def check(self, method: str, metadata: Metadata | None) -> ServicePrincipal:
        """The calling service, if `method` admits it; Unauthenticated or PermissionDenied."""
        allowed = self.allowed(method)
        name = method.rsplit("/", 1)[-1]
        if not allowed:
            raise PermissionDenied(f"{name} is offered to no caller")
        token = next(
            (
                value.decode() if isinstance(value, bytes) else value
                for key, value in metadata or ()
                if key.lower() == SERVICE_TOKEN_KEY
            ),
            None,
        )
        if not token:
            raise Unauthenticated(
                f"{name} needs a service credential ({SERVICE_TOKEN_KEY}) of: {', '.join(allowed)}"
            )
        principal = self._credentials.verify(token, audience=self._credentials.name)
        return require_service(principal, *allowed)
