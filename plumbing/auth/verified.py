"""Memory of tokens already verified: each checked once, its result kept until it expires.

Every RPC carries a service credential and many an access token; checking each signature
again (an Ed25519 check, 0.2-0.7 ms here) was a tenth of a service's CPU per call. What a
token proves is a function of the token's bytes and the keys trusted when it was checked, so
the verified result is kept, in memory only, until the token's own expiry and never longer.
Only successes are kept (a forged token is checked, and refused, every time); entries are
keyed by a SHA-256 of the token, so the memory holds no usable token; the memory is bounded
(least recently used first out). Whoever changes the trusted keys drops the memory (`clear`).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

from plumbing.auth.claims import AccessClaims
from plumbing.errors import Unauthenticated

__all__ = ["CAPACITY", "VerifiedCache", "VerifiedTokens", "token_digest"]

T = TypeVar("T")

#: Tokens remembered at most by default (about one per live subscriber across gateways).
CAPACITY = 20_000


def token_digest(token: str, scope: str = "") -> bytes:
    """The cache key: SHA-256 of the scope (e.g. the audience checked) and the token bytes."""
    return hashlib.sha256(f"{scope}\0{token}".encode()).digest()


class VerifiedCache(Generic[T]):
    """Verified values by token digest, each until its expiry (seconds since the epoch).

    The caller passes `now` from its own (injectable) clock, so the expiry is judged on the
    same time as the verification it replaces.
    """

    def __init__(self, capacity: int = CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("a verified-token cache holds at least one entry")
        self._capacity = capacity
        self._known: OrderedDict[bytes, tuple[T, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._known)

    def get(self, key: bytes, now: float) -> T | None:
        """The remembered value, or None (unknown, or expired: then forgotten)."""
        known = self._known.get(key)
        if known is None:
            return None
        if now >= known[1]:
            del self._known[key]
            return None
        self._known.move_to_end(key)
        return known[0]

    def put(self, key: bytes, value: T, expires: float) -> None:
        """Remembers a verified value until `expires`; the least recently used goes first."""
        self._known[key] = (value, expires)
        self._known.move_to_end(key)
        if len(self._known) > self._capacity:
            self._known.popitem(last=False)

    def clear(self) -> None:
        """Forgets everything (the trusted keys changed)."""
        self._known.clear()


class VerifiedTokens:
    """`claims(token)`: an access token's verified claims, or None for one that does not verify.

    For callers asking about many tokens at once (anonymity's CheckAliasOwners, at every live
    event, with every subscriber's token), where a bad token means "nobody", not an error.
    """

    def __init__(
        self,
        verify: Callable[[str], Awaitable[AccessClaims | None]],
        *,
        capacity: int = CAPACITY,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._verify = verify
        self._clock = clock
        self._known: VerifiedCache[AccessClaims] = VerifiedCache(capacity)

    async def claims(self, token: str) -> AccessClaims | None:
        key = token_digest(token)
        known = self._known.get(key, self._clock().timestamp())
        if known is not None:
            return known
        try:
            verified = await self._verify(token)
        except Unauthenticated:
            return None  # forged, foreign or expired
        if verified is None or verified.expires_at <= self._clock():
            return None  # expired (the verifier's leeway is no reason to ask about it)
        self._known.put(key, verified, verified.expires_at.timestamp())
        return verified
