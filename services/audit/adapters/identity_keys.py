"""Auditors' tokens, checked offline with identity's public keys (its JWKS, over gRPC).

The keys are fetched on first use and again when a token names a key id not seen yet
(identity rotated its key), at most once per `refresh_interval` seconds, so forged key ids
cannot turn into a stream of calls to identity.
"""

from __future__ import annotations

import json
from typing import Any

import grpc

from consilium.identity.v1 import identity_pb2 as ipb
from consilium.identity.v1 import identity_pb2_grpc
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
