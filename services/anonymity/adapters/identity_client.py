"""Identity over gRPC: persona attributes, specialty names, token keys, account moderation,
and the live check of staff powers (`live_check`, identity's CheckActor).

Anonymity calls identity on its own behalf with the shared service credential; persona
attributes are batched (one call per describe request) and specialty names and counts are
cheap to cache (see `CachedPersonaAttributes`). Errors from identity surface as
UNAVAILABLE: personas cannot be described safely without knowing the verification status.
Suspending and reinstating accounts (a moderator acting on an alias) are made idempotent
here: identity answers FAILED_PRECONDITION when the account is already in that state.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any

import grpc

from consilium.identity.v1 import identity_pb2 as ipb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.auth import VerificationStatus
from plumbing.auth.identity_keys import fetch_jwks
from plumbing.auth.live import LiveStaffCheck
from plumbing.auth.service import ServiceCredentials
from plumbing.errors import Unavailable
from plumbing.grpc.channel import create_channel
from services.anonymity.domain.personas import PersonaAttributes

log = logging.getLogger("consilium.anonymity")

IDENTITY_SERVICE = ipb.DESCRIPTOR.services_by_name["IdentityService"].full_name
# Safe to retry: reads, and the account actions, which `_account_action` makes idempotent.
_RETRYABLE = (
    "BatchGetPersonaAttributes",
    "CountVerifiedBySpecialty",
    "ListSpecialties",
    "GetPublicKeys",
    "SuspendPhysician",
    "ReinstatePhysician",
)
# Identity's answers meaning "nothing to do": already in that state, or nobody to act on.
_SETTLED = (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND)
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
        self._channel = create_channel(
            address, service=IDENTITY_SERVICE, idempotent_methods=_RETRYABLE
        )
        self._stub = identity_pb2_grpc.IdentityServiceStub(self._channel)
        self._credentials = credentials

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return self._credentials.metadata(service="anonymity", audience="identity")

    def live_check(self, ttl: float) -> LiveStaffCheck:
        """Staff members' current standing from identity, answers reused `ttl` s (<= 1)."""
        return LiveStaffCheck(lambda: self._stub, self._metadata, ttl=ttl)

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

    async def suspend_account(self, user_id: str, reason: str) -> None:
        request = ipb.SuspendPhysicianRequest(user_id=user_id, reason=reason)
        await self._account_action(self._stub.SuspendPhysician(request, metadata=self._metadata()))

    async def reinstate_account(self, user_id: str) -> None:
        request = ipb.ReinstatePhysicianRequest(user_id=user_id)
        await self._account_action(
            self._stub.ReinstatePhysician(request, metadata=self._metadata())
        )

    async def _account_action(self, call: Awaitable[object]) -> None:
        try:
            await call
        except grpc.aio.AioRpcError as exc:
            if exc.code() in _SETTLED:
                log.info("identity: account already settled (%s)", exc.code().name)
                return
            # The code only: identity's details may quote the request.
            log.warning("identity refused an account action (%s)", exc.code().name)
            raise Unavailable(
                "identity did not apply the account action; the alias itself was acted on, "
                "try again to act on the account"
            ) from None

    async def jwks(self) -> dict[str, Any]:
        """Identity's token-verification keys (a JWKS)."""
        return await fetch_jwks(self._stub)

    async def close(self) -> None:
        await self._channel.close(None)
