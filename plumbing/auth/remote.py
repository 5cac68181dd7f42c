"""Checks callers' access tokens offline with identity's public keys, fetched as a JWKS.

The keys are fetched on first use and again when a token names a key id we do not know
(identity rotated its signing key), at most once per `refresh_interval` seconds so a
stream of forged kids cannot turn into a stream of calls to identity.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt

from plumbing.auth.claims import AccessClaims
from plumbing.auth.verifier import TokenVerifier

JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


class RemoteTokenVerifier:
    """Turns a bearer token into verified claims (None when there is no token).

    `fetch_jwks` gets identity's key set (its GetPublicKeys RPC, through each component's own
    client): every component that checks end-user tokens does it this one way.
    """

    def __init__(
        self,
        fetch_jwks: JwksFetcher,
        *,
        refresh_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch_jwks
        self._refresh_interval = refresh_interval
        self._clock = clock
        self._verifier: TokenVerifier | None = None
        self._kids: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def claims(self, token: str | None) -> AccessClaims | None:
        """Verified claims; Unauthenticated (from the verifier) for a bad token."""
        if not token:
            return None
        if self._verifier is not None:
            known = self._verifier.remembered(token)
            if known is not None:
                return known  # verified already: no header to parse, no kid to look up
        if self._verifier is None or self._unknown_kid(token):
            await self._refresh()
        assert self._verifier is not None
        return self._verifier.verify(token)

    def _unknown_kid(self, token: str) -> bool:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            return False  # the verifier will reject it with the right message
        return isinstance(kid, str) and kid not in self._kids

    async def _refresh(self) -> None:
        async with self._lock:
            if self._verifier is not None and (
                self._clock() - self._fetched_at < self._refresh_interval
            ):
                return
            jwks = await self._fetch()
            self._verifier = TokenVerifier.from_jwks(jwks)
            self._kids = frozenset(
                str(k["kid"]) for k in jwks.get("keys", []) if isinstance(k, dict) and "kid" in k
            )
            self._fetched_at = self._clock()
