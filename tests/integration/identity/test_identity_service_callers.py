"""Service-to-service calls: anonymity reads persona attributes and suspends; nobody else does."""

from __future__ import annotations

import grpc
import pytest
from identity_harness import IdentityClient

from consilium.identity.v1 import identity_pb2 as pb
from plumbing.auth.service import RevealGrant, ServiceCredentials, mint_reveal_grant
from plumbing.auth.servicekeys import PeerKeys
from plumbing.grpc.caller import REVEAL_GRANT_KEY
from plumbing.signingkeys import SigningKey
from services.identity.domain.physician import Role


def credentials_of(identity: IdentityClient, service: str = "anonymity") -> ServiceCredentials:
    """The credentials the dev component `service` sharing identity's data dir would load."""
    return ServiceCredentials.load(service, identity.instance.settings.data_dir, environ={})


async def test_anonymity_reads_persona_attributes(identity: IdentityClient) -> None:
    member = await identity.register(full_name="Dr. Persona Person", specialty_code="207RC0000X")
    metadata = credentials_of(identity).metadata(service="anonymity", audience="identity")
    reply = await identity.stub.BatchGetPersonaAttributes(
        pb.BatchGetPersonaAttributesRequest(user_ids=[member.user_id]), metadata=metadata
    )
    (attributes,) = reply.attributes
    assert attributes.user_id == member.user_id
    assert attributes.full_name == "Dr. Persona Person"
    assert attributes.specialty_code == "207RC0000X"
    assert attributes.verification == pb.VERIFICATION_STATUS_PENDING
    assert not {"email", "npi"} & {f.name for f in pb.PersonaAttributes.DESCRIPTOR.fields}


async def test_counts_accept_a_service_credential(identity: IdentityClient) -> None:
    metadata = credentials_of(identity).metadata(service="anonymity", audience="identity")
    reply = await identity.stub.CountVerifiedBySpecialty(
        pb.CountVerifiedBySpecialtyRequest(), metadata=metadata
    )
    assert isinstance(list(reply.counts), list)


async def test_other_services_and_users_are_refused(identity: IdentityClient) -> None:
    member = await identity.register()
    request = pb.BatchGetPersonaAttributesRequest(user_ids=[member.user_id])
    content = credentials_of(identity, "content").metadata(audience="identity")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.BatchGetPersonaAttributes(request, metadata=content)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    _, admin = await identity.staff(Role.ADMIN)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.BatchGetPersonaAttributes(request, metadata=admin)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_credential_signed_with_another_key_is_unauthenticated(
    identity: IdentityClient,
) -> None:
    member = await identity.register()
    impostor = ServiceCredentials("anonymity", SigningKey.generate(), PeerKeys.pinned({}))
    stranger = impostor.metadata(audience="identity")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.BatchGetPersonaAttributes(
            pb.BatchGetPersonaAttributesRequest(user_ids=[member.user_id]), metadata=stranger
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_anonymity_suspends_and_reinstates_a_physician(identity: IdentityClient) -> None:
    member = await identity.register()
    metadata = credentials_of(identity).metadata(service="anonymity", audience="identity")
    suspended = await identity.stub.SuspendPhysician(
        pb.SuspendPhysicianRequest(user_id=member.user_id, reason="alias reported"),
        metadata=metadata,
    )
    assert suspended.physician.verification == pb.VERIFICATION_STATUS_SUSPENDED
    reinstated = await identity.stub.ReinstatePhysician(
        pb.ReinstatePhysicianRequest(user_id=member.user_id), metadata=metadata
    )
    assert reinstated.physician.verification == pb.VERIFICATION_STATUS_PENDING


async def test_anonymity_must_say_why_it_suspends(identity: IdentityClient) -> None:
    member = await identity.register()
    metadata = credentials_of(identity).metadata(service="anonymity", audience="identity")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.SuspendPhysician(
            pb.SuspendPhysicianRequest(user_id=member.user_id, reason=""), metadata=metadata
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("service", ["content", "audit", "gateway"])
async def test_other_services_may_not_suspend_or_reinstate(
    identity: IdentityClient, service: str
) -> None:
    member = await identity.register()
    anonymity = credentials_of(identity).metadata(audience="identity")
    other = credentials_of(identity, service).metadata(audience="identity")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.SuspendPhysician(
            pb.SuspendPhysicianRequest(user_id=member.user_id, reason="spam"), metadata=other
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    await identity.stub.SuspendPhysician(
        pb.SuspendPhysicianRequest(user_id=member.user_id, reason="spam"), metadata=anonymity
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.ReinstatePhysician(
            pb.ReinstatePhysicianRequest(user_id=member.user_id), metadata=other
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    _, admin = await identity.staff(Role.ADMIN)
    reply = await identity.stub.GetPhysician(
        pb.GetPhysicianRequest(user_id=member.user_id), metadata=admin
    )
    assert reply.physician.verification == pb.VERIFICATION_STATUS_SUSPENDED


async def test_a_service_credential_for_another_audience_may_not_suspend(
    identity: IdentityClient,
) -> None:
    member = await identity.register()
    metadata = credentials_of(identity).metadata(service="anonymity", audience="content")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.SuspendPhysician(
            pb.SuspendPhysicianRequest(user_id=member.user_id, reason="spam"), metadata=metadata
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("signer", ["identity", "gateway", "content", "audit", "stranger"])
async def test_a_reveal_grant_signed_by_any_key_but_anonymitys_is_refused(
    identity: IdentityClient, signer: str
) -> None:
    """Whatever can check a grant cannot mint one: only anonymity's private key signs them."""
    moderator_id, moderator = await identity.staff(Role.MODERATOR)
    member = await identity.register()
    key = SigningKey.generate() if signer == "stranger" else credentials_of(identity, signer).key
    forger = ServiceCredentials("anonymity", key, PeerKeys.pinned({}))
    grant = mint_reveal_grant(
        forger, RevealGrant(subject=member.user_id, actor=moderator_id, record="iar_forged")
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.GetPhysician(
            pb.GetPhysicianRequest(user_id=member.user_id),
            metadata=(*moderator, (REVEAL_GRANT_KEY, grant)),
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    genuine = mint_reveal_grant(
        credentials_of(identity),
        RevealGrant(subject=member.user_id, actor=moderator_id, record="iar_genuine"),
    )
    reply = await identity.stub.GetPhysician(
        pb.GetPhysicianRequest(user_id=member.user_id),
        metadata=(*moderator, (REVEAL_GRANT_KEY, genuine)),
    )
    assert reply.physician.user_id == member.user_id
