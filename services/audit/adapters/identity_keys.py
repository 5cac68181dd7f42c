"""Auditors' tokens, checked offline with identity's public keys (its JWKS, over gRPC),
and auditors' current standing, asked of identity's CheckActor on every query.

The keys are fetched on first use and again when a token names a key id not seen yet
(identity rotated its key), at most once per `refresh_interval` seconds, so forged key ids
cannot turn into a stream of calls to identity.
"""

from __future__ import annotations

from typing import Any

from consilium.identity.v1 import identity_pb2 as ipb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.auth.identity_keys import fetch_jwks
from plumbing.auth.live import LiveStaffCheck
from plumbing.auth.service import ServiceCredentials
from plumbing.grpc.channel import create_channel

_IDENTITY_SERVICE = ipb.DESCRIPTOR.services_by_name["IdentityService"].full_name


class IdentityKeysClient:
    """Identity's GetPublicKeys and CheckActor: the identity calls audit makes."""

    def __init__(self, address: str, credentials: ServiceCredentials) -> None:
        self._channel = create_channel(
            address,
            service=_IDENTITY_SERVICE,
            idempotent_methods=("GetPublicKeys", "CheckActor"),
        )
        self._stub = identity_pb2_grpc.IdentityServiceStub(self._channel)
        self._credentials = credentials

    def live_check(self, ttl: float) -> LiveStaffCheck:
        """Auditors' current standing, asked as the audit service (answers reused `ttl` s)."""
        return LiveStaffCheck(
            lambda: self._stub,
            lambda: self._credentials.metadata(audience="identity"),
            ttl=ttl,
        )

    async def jwks(self) -> dict[str, Any]:
        return await fetch_jwks(self._stub)

    async def close(self) -> None:
        await self._channel.close(None)
