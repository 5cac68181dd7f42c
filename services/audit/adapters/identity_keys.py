"""Auditors' tokens, checked offline with identity's public keys (its JWKS, over gRPC).

The keys are fetched on first use and again when a token names a key id not seen yet
(identity rotated its key), at most once per `refresh_interval` seconds, so forged key ids
cannot turn into a stream of calls to identity.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import grpc
import jwt

from consilium.identity.v1 import identity_pb2 as ipb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.auth import AccessClaims, TokenVerifier
from plumbing.errors import Unavailable
from plumbing.grpc.channel import create_channel

_IDENTITY_SERVICE = ipb.DESCRIPTOR.services_by_name["IdentityService"].full_name


class IdentityKeysClient:
    """Identity's GetPublicKeys: the one identity call audit makes."""

    def __init__(self, address: str) -> None:
        self._channel = create_channel(
            address, service=_IDENTITY_SERVICE, idempotent_methods=("GetPublicKeys",)
        )
        self._stub = identity_pb2_grpc.IdentityServiceStub(self._channel)

    async def jwks(self) -> dict[str, Any]:
        try:
            reply = await self._stub.GetPublicKeys(ipb.GetPublicKeysRequest())
        except grpc.aio.AioRpcError:
            raise Unavailable("identity is unavailable, so tokens cannot be checked") from None
        document: dict[str, Any] = json.loads(reply.jwks_json)
        return document

    async def close(self) -> None:
        await self._channel.close(None)


class TokenChecker:
    """A bearer token → verified claims (None without a token; Unauthenticated if bad)."""

    def __init__(
        self,
        client: IdentityKeysClient,
        *,
        refresh_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._refresh_interval = refresh_interval
        self._clock = clock
        self._verifier: TokenVerifier | None = None
        self._kids: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def claims(self, token: str | None) -> AccessClaims | None:
        if not token:
            return None
        if self._verifier is None or self._names_unknown_key(token):
            await self._refresh()
        assert self._verifier is not None
        return self._verifier.verify(token)

    def _names_unknown_key(self, token: str) -> bool:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            return False  # the verifier rejects it with the right message
        return isinstance(kid, str) and kid not in self._kids

    async def _refresh(self) -> None:
        async with self._lock:
            if self._verifier is not None and (
                self._clock() - self._fetched_at < self._refresh_interval
            ):
                return
            jwks = await self._client.jwks()
            self._verifier = TokenVerifier.from_jwks(jwks)
            entries = jwks.get("keys", [])
            self._kids = frozenset(
                str(k["kid"]) for k in entries if isinstance(k, dict) and "kid" in k
            )
            self._fetched_at = self._clock()
