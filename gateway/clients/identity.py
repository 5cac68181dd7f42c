"""Client of the identity service: sign-up, sign-in, keys, profiles and admin actions."""

from __future__ import annotations

import json
from typing import Any

from consilium.identity.v1 import identity_pb2 as pb
from consilium.identity.v1 import identity_pb2_grpc
from gateway.clients.base import Metadata, UpstreamClient, invoke

_SERVICE = "consilium.identity.v1.IdentityService"
_IDEMPOTENT = (
    "GetPublicKeys",
    "GetPhysician",
    "BatchGetPhysicians",
    "ListSpecialties",
    "CountVerifiedBySpecialty",
    "ListFollowedCommunities",
    # Setting and clearing a follow: the same outcome however often it is asked.
    "FollowCommunity",
    "UnfollowCommunity",
)


class IdentityClient(UpstreamClient):
    """The end user's token travels in `metadata`; identity checks it again itself."""

    service = _SERVICE
    idempotent = _IDEMPOTENT
    stub_class = identity_pb2_grpc.IdentityServiceStub
    _stub: identity_pb2_grpc.IdentityServiceAsyncStub

    async def register(self, request: pb.RegisterRequest) -> pb.Physician:
        return (await invoke(self._stub.Register, request)).physician

    async def login(self, email: str, password: str, client_address: str = "") -> pb.LoginResponse:
        request = pb.LoginRequest(email=email, password=password, client_address=client_address)
        return await invoke(self._stub.Login, request)

    async def public_keys(self) -> dict[str, Any]:
        reply = await invoke(self._stub.GetPublicKeys, pb.GetPublicKeysRequest())
        keys: dict[str, Any] = json.loads(reply.jwks_json)
        return keys

    async def get_physician(self, user_id: str, metadata: Metadata) -> pb.Physician:
        request = pb.GetPhysicianRequest(user_id=user_id)
        return (await invoke(self._stub.GetPhysician, request, metadata)).physician

    async def verify(self, user_id: str, approve: bool, metadata: Metadata) -> pb.Physician:
        request = pb.VerifyPhysicianRequest(user_id=user_id, approve=approve)
        return (await invoke(self._stub.VerifyPhysician, request, metadata)).physician

    async def suspend(self, user_id: str, reason: str, metadata: Metadata) -> pb.Physician:
        request = pb.SuspendPhysicianRequest(user_id=user_id, reason=reason)
        return (await invoke(self._stub.SuspendPhysician, request, metadata)).physician

    async def reinstate(self, user_id: str, metadata: Metadata) -> pb.Physician:
        request = pb.ReinstatePhysicianRequest(user_id=user_id)
        return (await invoke(self._stub.ReinstatePhysician, request, metadata)).physician

    async def erase(self, user_id: str, metadata: Metadata) -> None:
        await invoke(self._stub.ErasePhysician, pb.ErasePhysicianRequest(user_id=user_id), metadata)

    async def list_specialties(self) -> list[pb.Specialty]:
        reply = await invoke(self._stub.ListSpecialties, pb.ListSpecialtiesRequest())
        return list(reply.specialties)

    async def follow(self, community_id: str, metadata: Metadata) -> None:
        request = pb.FollowCommunityRequest(community_id=community_id)
        await invoke(self._stub.FollowCommunity, request, metadata)

    async def unfollow(self, community_id: str, metadata: Metadata) -> None:
        request = pb.UnfollowCommunityRequest(community_id=community_id)
        await invoke(self._stub.UnfollowCommunity, request, metadata)

    async def followed(self, metadata: Metadata) -> list[str]:
        """The caller's followed community ids (the token in `metadata` says who)."""
        request = pb.ListFollowedCommunitiesRequest()
        return list(
            (await invoke(self._stub.ListFollowedCommunities, request, metadata)).community_ids
        )
