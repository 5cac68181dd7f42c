"""The IdentityService gRPC servicer: convert, call the use case, convert."""

from __future__ import annotations

import json
from typing import Any

from consilium.identity.v1 import identity_pb2 as pb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.auth.claims import AccessClaims
from plumbing.auth.service import ServiceCredentials, ServicePrincipal, verify_reveal_grant
from plumbing.errors import FieldViolation, InvalidArgument, PermissionDenied
from plumbing.grpc.caller import (
    REVEAL_GRANT_KEY,
    caller_metadata,
    caller_service_token,
    caller_token,
)
from plumbing.logging import redact_names
from plumbing.timestamps import timestamp
from services.identity.adapters.converters import (
    actor_status_to_proto,
    persona_attributes_to_proto,
    physician_to_proto,
    roles_from_proto,
    specialty_to_proto,
)
from services.identity.follows import FollowService
from services.identity.service import IdentityService
from services.identity.tokens import KeyRing, TokenVerifier

Context = Any  # grpc.aio.ServicerContext; unused by these handlers beyond the signature


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    """Adapts gRPC calls to `IdentityService`; the caller comes from the bearer token."""

    def __init__(
        self,
        service: IdentityService,
        keys: KeyRing,
        credentials: ServiceCredentials,
        follows: FollowService,
    ) -> None:
        self._service = service
        self._follows = follows
        self._keys = keys
        self._credentials = credentials
        self._verifier: TokenVerifier = keys.verifier()

    def _caller(self) -> AccessClaims | None:
        # Defence in depth: the gateway checked the token too, but identity trusts only its
        # own verification of it.
        token = caller_token()
        return self._verifier.verify(token) if token else None

    def _service_caller(self) -> ServicePrincipal | None:
        token = caller_service_token()
        return self._credentials.verify(token, audience="identity") if token else None

    async def Register(self, request: pb.RegisterRequest, context: Context) -> pb.RegisterResponse:
        with redact_names([request.full_name]):  # no log line of this call names the registrant
            physician = await self._service.register(
                email=request.email,
                password=request.password,
                full_name=request.full_name,
                npi=request.npi,
                specialty_code=request.specialty_code,
                country=request.country,
            )
        return pb.RegisterResponse(physician=physician_to_proto(physician))

    async def Login(self, request: pb.LoginRequest, context: Context) -> pb.LoginResponse:
        result = await self._service.login(
            email=request.email, password=request.password, client_address=request.client_address
        )
        return pb.LoginResponse(
            access_token=result.token.token,
            expires_at=timestamp(result.token.claims.expires_at),
            physician=physician_to_proto(result.physician),
        )

    async def GetPublicKeys(
        self, request: pb.GetPublicKeysRequest, context: Context
    ) -> pb.GetPublicKeysResponse:
        return pb.GetPublicKeysResponse(jwks_json=json.dumps(self._keys.jwks(), sort_keys=True))

    async def GetPhysician(
        self, request: pb.GetPhysicianRequest, context: Context
    ) -> pb.GetPhysicianResponse:
        caller = self._caller()
        grant = caller_metadata(REVEAL_GRANT_KEY)
        revealed = None
        if grant and caller is not None:
            try:
                revealed = verify_reveal_grant(
                    self._credentials, grant, subject=request.user_id, actor=caller.user_id
                )
            except PermissionDenied as refusal:
                await self._service.refuse_reveal_read(caller, request.user_id, refusal)
        physician = await self._service.get_physician(caller, request.user_id, revealed=revealed)
        return pb.GetPhysicianResponse(physician=physician_to_proto(physician))

    async def BatchGetPhysicians(
        self, request: pb.BatchGetPhysiciansRequest, context: Context
    ) -> pb.BatchGetPhysiciansResponse:
        found, missing = await self._service.batch_get_physicians(self._caller(), request.user_ids)
        return pb.BatchGetPhysiciansResponse(
            physicians=[physician_to_proto(p) for p in found.values()],
            missing_user_ids=missing,
        )

    async def VerifyPhysician(
        self, request: pb.VerifyPhysicianRequest, context: Context
    ) -> pb.VerifyPhysicianResponse:
        physician = await self._service.verify(
            self._caller(), request.user_id, approve=request.approve
        )
        return pb.VerifyPhysicianResponse(physician=physician_to_proto(physician))

    async def SetRoles(self, request: pb.SetRolesRequest, context: Context) -> pb.SetRolesResponse:
        roles = roles_from_proto(request.roles)
        physician = await self._service.set_roles(self._caller(), request.user_id, roles)
        return pb.SetRolesResponse(physician=physician_to_proto(physician))

    async def SuspendPhysician(
        self, request: pb.SuspendPhysicianRequest, context: Context
    ) -> pb.SuspendPhysicianResponse:
        if not request.reason.strip():
            raise InvalidArgument([FieldViolation("reason", "say why the physician is suspended")])
        service = self._service_caller()
        caller = None if service else self._caller()
        physician = await self._service.suspend(
            caller, request.user_id, reason=request.reason, service=service
        )
        return pb.SuspendPhysicianResponse(physician=physician_to_proto(physician))

    async def ReinstatePhysician(
        self, request: pb.ReinstatePhysicianRequest, context: Context
    ) -> pb.ReinstatePhysicianResponse:
        service = self._service_caller()
        caller = None if service else self._caller()
        physician = await self._service.reinstate(caller, request.user_id, service=service)
        return pb.ReinstatePhysicianResponse(physician=physician_to_proto(physician))

    async def ErasePhysician(
        self, request: pb.ErasePhysicianRequest, context: Context
    ) -> pb.ErasePhysicianResponse:
        await self._service.erase(self._caller(), request.user_id)
        return pb.ErasePhysicianResponse()

    async def BatchGetPersonaAttributes(
        self, request: pb.BatchGetPersonaAttributesRequest, context: Context
    ) -> pb.BatchGetPersonaAttributesResponse:
        service = self._service_caller()
        # A signed-in user has no business here, but is named in the refusal's audit event.
        caller = None if service else self._caller()
        found, missing = await self._service.batch_get_persona_attributes(
            service, request.user_ids, caller=caller
        )
        return pb.BatchGetPersonaAttributesResponse(
            attributes=[persona_attributes_to_proto(p) for p in found.values()],
            missing_user_ids=missing,
        )

    async def CheckActor(
        self, request: pb.CheckActorRequest, context: Context
    ) -> pb.CheckActorResponse:
        found = await self._service.check_actor(self._service_caller(), request.user_id)
        return actor_status_to_proto(found)

    async def ListSpecialties(
        self, request: pb.ListSpecialtiesRequest, context: Context
    ) -> pb.ListSpecialtiesResponse:
        specialties = sorted(self._service.list_specialties(), key=lambda s: s.name)
        return pb.ListSpecialtiesResponse(specialties=[specialty_to_proto(s) for s in specialties])

    async def CountVerifiedBySpecialty(
        self, request: pb.CountVerifiedBySpecialtyRequest, context: Context
    ) -> pb.CountVerifiedBySpecialtyResponse:
        counts = await self._service.count_verified_by_specialty(
            self._caller(), self._service_caller()
        )
        return pb.CountVerifiedBySpecialtyResponse(
            counts=[
                pb.SpecialtyCount(specialty_code=code, verified_count=count)
                for code, count in sorted(counts.items())
            ]
        )

    async def FollowCommunity(
        self, request: pb.FollowCommunityRequest, context: Context
    ) -> pb.FollowCommunityResponse:
        await self._follows.follow(self._caller(), request.community_id)
        return pb.FollowCommunityResponse()

    async def UnfollowCommunity(
        self, request: pb.UnfollowCommunityRequest, context: Context
    ) -> pb.UnfollowCommunityResponse:
        await self._follows.unfollow(self._caller(), request.community_id)
        return pb.UnfollowCommunityResponse()

    async def ListFollowedCommunities(
        self, request: pb.ListFollowedCommunitiesRequest, context: Context
    ) -> pb.ListFollowedCommunitiesResponse:
        followed = await self._follows.followed(self._caller())
        return pb.ListFollowedCommunitiesResponse(community_ids=followed)
