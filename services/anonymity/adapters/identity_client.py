"""Identity over gRPC: persona attributes, verified counts, specialty names, token keys.

Anonymity calls identity on its own behalf with the shared service credential; persona
attributes are batched (one call per describe request) and specialty names and counts are
cheap to cache (see `CachedPersonaAttributes`). Errors from identity surface as
UNAVAILABLE: personas cannot be described safely without knowing the verification status.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import grpc

from consilium.identity.v1 import identity_pb2 as ipb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.auth import VerificationStatus
from plumbing.auth.service import ServiceCredentials
from plumbing.errors import Unavailable
from plumbing.grpc.channel import create_channel
from services.anonymity.domain.personas import PersonaAttributes

IDENTITY_SERVICE = ipb.DESCRIPTOR.services_by_name["IdentityService"].full_name
_READS = (
    "BatchGetPersonaAttributes",
    "CountVerifiedBySpecialty",
    "ListSpecialties",
    "GetPublicKeys",
)
_STATUS_FROM_PB = {
    ipb.VERIFICATION_STATUS_PENDING: VerificationStatus.PENDING,
    ipb.VERIFICATION_STATUS_VERIFIED: VerificationStatus.VERIFIED,
    ipb.VERIFICATION_STATUS_REJECTED: VerificationStatus.REJECTED,
    ipb.VERIFICATION_STATUS_SUSPENDED: VerificationStatus.SUSPENDED,
}
_BATCH = 500
_UNAVAILABLE = "identity is unavailable, so personas cannot be described; try again shortly"


class IdentityClient:
    """The identity calls anonymity makes; implements `PersonaAttributesSource`."""

    def __init__(self, address: str, credentials: ServiceCredentials) -> None:
        self._channel = create_channel(address, service=IDENTITY_SERVICE, idempotent_methods=_READS)
        self._stub = identity_pb2_grpc.IdentityServiceStub(self._channel)
        self._credentials = credentials

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return self._credentials.metadata(service="anonymity", audience="identity")

    async def attributes(self, user_ids: Iterable[str]) -> dict[str, PersonaAttributes]:
        wanted = list(dict.fromkeys(user_ids))
        found: dict[str, PersonaAttributes] = {}
        for start in range(0, len(wanted), _BATCH):
            request = ipb.BatchGetPersonaAttributesRequest(user_ids=wanted[start : start + _BATCH])
            try:
                reply = await self._stub.BatchGetPersonaAttributes(
                    request, metadata=self._metadata()
                )
            except grpc.aio.AioRpcError:
                raise Unavailable(_UNAVAILABLE) from None
            for item in reply.attributes:
                found[item.user_id] = PersonaAttributes(
                    user_id=item.user_id,
                    full_name=item.full_name,
                    verification=_STATUS_FROM_PB.get(item.verification, VerificationStatus.PENDING),
                    specialty_code=item.specialty_code,
                    erased=item.erased,
                )
        return found

    async def verified_counts(self) -> Mapping[str, int]:
        try:
            reply = await self._stub.CountVerifiedBySpecialty(
                ipb.CountVerifiedBySpecialtyRequest(), metadata=self._metadata()
            )
        except grpc.aio.AioRpcError:
            raise Unavailable(_UNAVAILABLE) from None
        return {c.specialty_code: c.verified_count for c in reply.counts}

    async def specialty_names(self) -> Mapping[str, str]:
        try:
            reply = await self._stub.ListSpecialties(ipb.ListSpecialtiesRequest())
        except grpc.aio.AioRpcError:
            raise Unavailable(_UNAVAILABLE) from None
        return {s.code: s.name for s in reply.specialties}

    async def jwks(self) -> dict[str, Any]:
        """Identity's token-verification keys (a JWKS)."""
        try:
            reply = await self._stub.GetPublicKeys(ipb.GetPublicKeysRequest())
        except grpc.aio.AioRpcError:
            raise Unavailable("identity is unavailable, so tokens cannot be checked") from None
        document: dict[str, Any] = json.loads(reply.jwks_json)
        return document

    async def close(self) -> None:
        await self._channel.close(None)
