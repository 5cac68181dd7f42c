"""CheckActor and the LiveStaffCheck client against a real identity over gRPC on loopback.

A suspended or demoted staff member is refused within the cache's bound (at most 1 s; here
the clock is ours, so "at once" is checked exactly), whatever their token still says.
"""

from __future__ import annotations

import grpc
import pytest
from audit_support import audit_events, credentials_of, rpc_error
from identity_harness import IdentityClient

from consilium.identity.v1 import identity_pb2 as pb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.auth.claims import AccessClaims
from plumbing.auth.live import MAX_TTL, LiveStaffCheck
from plumbing.errors import PermissionDenied, Unavailable
from services.identity.domain.physician import Role, VerificationStatus, new_user_id


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def live_check(
    identity: IdentityClient, clock: Clock, service: str = "anonymity"
) -> LiveStaffCheck:
    credentials = credentials_of(identity, service)
    stub = identity_pb2_grpc.IdentityServiceStub(identity.channel)
    return LiveStaffCheck(
        lambda: stub,
        lambda: credentials.metadata(audience="identity"),
        clock=clock,
    )


def claims(identity: IdentityClient, metadata: tuple[tuple[str, str], ...]) -> AccessClaims:
    return identity.instance.keys.verifier().verify(metadata[0][1].removeprefix("Bearer "))


async def test_check_actor_answers_services_only(identity: IdentityClient) -> None:
    moderator_id, _ = await identity.staff(Role.MODERATOR)
    request = pb.CheckActorRequest(user_id=moderator_id)
    for service in ("anonymity", "audit"):
        metadata = credentials_of(identity, service).metadata(audience="identity")
        reply = await identity.stub.CheckActor(request, metadata=metadata)
        assert (reply.exists, reply.erased) == (True, False)
        assert reply.verification == pb.VERIFICATION_STATUS_VERIFIED
        assert sorted(reply.roles) == [pb.ROLE_MEMBER, pb.ROLE_MODERATOR]
    unknown = await identity.stub.CheckActor(
        pb.CheckActorRequest(user_id=new_user_id()),
        metadata=credentials_of(identity, "audit").metadata(audience="identity"),
    )
    assert not unknown.exists
    _, admin = await identity.staff(Role.ADMIN)
    content = credentials_of(identity, "content").metadata(audience="identity")
    for metadata in (content, admin):
        error = await rpc_error(identity.stub.CheckActor(request, metadata=metadata))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    # Status and roles are no personal data: the check itself records nothing.
    assert await audit_events(identity) == []


async def test_a_demoted_moderator_is_refused_once_the_cache_bound_passes(
    identity: IdentityClient,
) -> None:
    clock = Clock()
    live = live_check(identity, clock)
    moderator_id, moderator = await identity.staff(Role.MODERATOR)
    token = claims(identity, moderator)
    standing = await live.require(token, Role.MODERATOR, Role.ADMIN)
    assert Role.MODERATOR in standing.roles
    _, admin = await identity.staff(Role.ADMIN)
    await identity.stub.SetRoles(pb.SetRolesRequest(user_id=moderator_id, roles=[]), metadata=admin)
    # Within the bound the answer may be reused; past it, never.
    await live.require(token, Role.MODERATOR)
    clock.now += MAX_TTL
    with pytest.raises(PermissionDenied, match="needs the MODERATOR"):
        await live.require(token, Role.MODERATOR)
    assert Role.MODERATOR in token.roles  # the token still claims it


async def test_a_suspended_admin_is_refused_at_once_without_a_cache(
    identity: IdentityClient,
) -> None:
    credentials = credentials_of(identity, "audit")
    stub = identity_pb2_grpc.IdentityServiceStub(identity.channel)
    live = LiveStaffCheck(
        lambda: stub,
        lambda: credentials.metadata(audience="identity"),
        ttl=0,
    )
    admin_id, admin = await identity.staff(Role.ADMIN)
    token = claims(identity, admin)
    await live.require(token, Role.ADMIN)
    _, other = await identity.staff(Role.ADMIN)
    await identity.stub.SuspendPhysician(
        pb.SuspendPhysicianRequest(user_id=admin_id, reason="compromised"), metadata=other
    )
    with pytest.raises(PermissionDenied, match="suspended"):
        await live.require(token, Role.ADMIN)
    standing = await live.standing(admin_id)
    assert standing.verification is VerificationStatus.SUSPENDED


async def test_an_erased_or_unknown_actor_is_refused(identity: IdentityClient) -> None:
    live = live_check(identity, Clock())
    member, metadata = await identity.member()
    token = claims(identity, metadata)
    await identity.stub.ErasePhysician(
        pb.ErasePhysicianRequest(user_id=member.user_id), metadata=metadata
    )
    with pytest.raises(PermissionDenied, match="no longer exists"):
        await live.require(token, Role.MEMBER)


async def test_an_unauthorised_service_or_no_identity_fails_closed(
    identity: IdentityClient,
) -> None:
    _, admin = await identity.staff(Role.ADMIN)
    token = claims(identity, admin)
    with pytest.raises(Unavailable):
        await live_check(identity, Clock(), service="content").require(token, Role.ADMIN)
    async with grpc.aio.insecure_channel("127.0.0.1:9") as dead:
        stub = identity_pb2_grpc.IdentityServiceStub(dead)
        credentials = credentials_of(identity, "audit")
        unreachable = LiveStaffCheck(
            lambda: stub,
            lambda: credentials.metadata(audience="identity"),
            timeout=1.0,
        )
        with pytest.raises(Unavailable):
            await unreachable.require(token, Role.ADMIN)


def test_the_cache_bound_cannot_be_raised() -> None:
    with pytest.raises(ValueError, match="ttl"):
        LiveStaffCheck(lambda: None, lambda: (), ttl=MAX_TTL * 5)  # type: ignore[arg-type,return-value]
