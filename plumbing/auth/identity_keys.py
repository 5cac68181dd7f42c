"""Identity's token-verification keys (its JWKS) over gRPC, as every service that checks tokens
offline fetches them."""

from __future__ import annotations

import json
from typing import Any

import grpc

from consilium.identity.v1 import identity_pb2 as ipb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.errors import Unavailable


async def fetch_jwks(stub: identity_pb2_grpc.IdentityServiceAsyncStub) -> dict[str, Any]:
    """The JWKS; Unavailable when identity cannot be asked (so no token can be checked)."""
    try:
        reply = await stub.GetPublicKeys(ipb.GetPublicKeysRequest())
    except grpc.aio.AioRpcError:
        raise Unavailable("identity is unavailable, so tokens cannot be checked") from None
    document: dict[str, Any] = json.loads(reply.jwks_json)
    return document
