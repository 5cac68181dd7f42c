"""Offline verification of access tokens against a set of trusted Ed25519 public keys."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from plumbing.auth.claims import (
    AUDIENCE,
    ISSUER,
    REQUIRED_CLAIMS,
    AccessClaims,
    claims_from_payload,
)
from plumbing.auth.jwk import ALGORITHM, key_id, padded_b64
from plumbing.auth.verified import CAPACITY, VerifiedCache, token_digest
from plumbing.errors import Unauthenticated

#: Tolerated clock skew between the identity service and whoever verifies.
DEFAULT_LEEWAY = timedelta(seconds=30)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC: the default clock."""
    return datetime.now(UTC)


class TokenVerifier:
    """Checks access tokens offline against a set of trusted public keys.

    A token that verified is remembered (`plumbing.auth.verified`) until its own expiry, so
    its signature is checked once, not at every call; the keys never change in an instance
    (a new key set is a new verifier), so a remembered result cannot outlive its keys.
    """

    def __init__(
        self,
        keys: Mapping[str, Ed25519PublicKey],
        *,
        clock: Clock = utc_now,
        leeway: timedelta = DEFAULT_LEEWAY,
        capacity: int = CAPACITY,
    ) -> None:
        if not keys:
            raise ValueError("a token verifier needs at least one key")
        self._keys = dict(keys)
        self._clock = clock
        self._leeway = leeway
        self._verified: VerifiedCache[AccessClaims] = VerifiedCache(capacity)

    @classmethod
    def from_jwks(
        cls,
        jwks: Mapping[str, Any],
        *,
        clock: Clock = utc_now,
        leeway: timedelta = DEFAULT_LEEWAY,
    ) -> TokenVerifier:
        """A verifier trusting the Ed25519 keys of a JWKS (as `KeyRing.jwks()` makes)."""
        entries = jwks.get("keys")
        if not isinstance(entries, list):
            raise ValueError("a JWKS has a 'keys' list")
        keys: dict[str, Ed25519PublicKey] = {}
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise ValueError("each JWKS entry is a JSON object")
            if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
                continue  # not ours to verify with; a shared JWKS may hold other key types
            try:
                raw = base64.urlsafe_b64decode(padded_b64(str(entry["x"])))
                public_key = Ed25519PublicKey.from_public_bytes(raw)
            except (KeyError, ValueError) as exc:
                raise ValueError("a JWKS entry has a malformed Ed25519 'x'") from exc
            kid = entry.get("kid")
            keys[kid if isinstance(kid, str) and kid else key_id(public_key)] = public_key
        return cls(keys, clock=clock, leeway=leeway)

    def remembered(self, token: str) -> AccessClaims | None:
        """The claims of a token this verifier already verified and that has not expired yet."""
        return self._verified.get(token_digest(token), self._clock().timestamp())

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid token; Unauthenticated saying why otherwise."""
        if not token:
            raise Unauthenticated("token missing; sign in to get one")
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        digest = token_digest(token)
        # Remembered until expires_at only: past it, the full check below (with its leeway).
        known = self._verified.get(digest, now.timestamp())
        if known is not None:
            return known
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("token malformed; sign in again") from exc
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated("token algorithm not accepted; sign in again")
        kid = header.get("kid")
        public_key = self._keys.get(kid) if isinstance(kid, str) else None
        if public_key is None or not isinstance(kid, str):
            raise Unauthenticated("unknown key id; sign in again")
        claims = claims_from_payload(_decode(token, public_key), key_id=kid)
        if now >= claims.expires_at + self._leeway:
            raise Unauthenticated("token expired; sign in again")
        if claims.issued_at > now + self._leeway:
            raise Unauthenticated("token not valid yet; check the system clock")
        self._verified.put(digest, claims, claims.expires_at.timestamp())
        return claims


def _decode(token: str, public_key: Ed25519PublicKey) -> dict[str, Any]:
    # Time checks are done by the caller against the injected clock, not PyJWT's time().
    try:
        return jwt.decode(
            token,
            public_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": list(REQUIRED_CLAIMS),
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise Unauthenticated("token signature invalid") from exc
    except jwt.InvalidAudienceError as exc:
        raise Unauthenticated("token audience invalid; it was not issued for Consilium") from exc
    except jwt.InvalidIssuerError as exc:
        raise Unauthenticated("token issuer invalid; it was not issued by Consilium") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthenticated("token lacks a required claim; sign in again") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated("token invalid; sign in again") from exc
