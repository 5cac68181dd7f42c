"""Claims of access tokens already verified, kept until they expire, for CheckAliasOwners.

A live post reaches every subscriber of a gateway, and the gateway asks CheckAliasOwners with
the same subscribers' tokens at every event: verifying each signature again (an Ed25519 check,
0.2-0.7 ms each here) would cost a second per event at 1,000 subscribers. A token's claims
are a function of the token and the signing keys, so a verified token's claims are kept, in
memory only, until it expires; the memory is bounded and a token is never logged.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from plumbing.auth import AccessClaims
from plumbing.errors import Unauthenticated

#: Tokens remembered at most (about one per live subscriber across the gateway replicas).
CAPACITY = 20_000


class VerifiedTokens:
    """`claims(token)`: the verified claims, or None for a token that does not verify."""

    def __init__(
        self,
        verify: Callable[[str], Awaitable[AccessClaims | None]],
        *,
        capacity: int = CAPACITY,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._verify = verify
        self._capacity = capacity
        self._clock = clock
        # Keyed by a digest, so the memory holds no usable token.
        self._known: OrderedDict[bytes, AccessClaims] = OrderedDict()

    async def claims(self, token: str) -> AccessClaims | None:
        key = hashlib.sha256(token.encode()).digest()
        known = self._known.get(key)
        if known is not None:
            if known.expires_at > self._clock():
                self._known.move_to_end(key)
                return known
            del self._known[key]
            return None  # expired: it asks about nobody
        try:
            verified = await self._verify(token)
        except Unauthenticated:
            return None  # forged, foreign or expired
        if verified is not None:
            self._known[key] = verified
            if len(self._known) > self._capacity:
                self._known.popitem(last=False)
        return verified
