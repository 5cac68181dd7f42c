"""Service-to-service calls: anonymity's credential reads persona attributes, nobody else does."""

from __future__ import annotations

import grpc
import pytest
from identity_harness import IdentityClient

from consilium.identity.v1 import identity_pb2 as pb
from plumbing.auth.service import ServiceCredentials
from services.identity.domain.physician import Role


def credentials_of(identity: IdentityClient) -> ServiceCredentials:
    """The credentials a component sharing identity's data dir would load."""
    return ServiceCredentials.load(identity.instance.settings.data_dir, environ={})


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
    content = credentials_of(identity).metadata(service="content", audience="identity")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.BatchGetPersonaAttributes(request, metadata=content)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    _, admin = await identity.staff(Role.ADMIN)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.BatchGetPersonaAttributes(request, metadata=admin)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_credential_from_another_secret_is_unauthenticated(
    identity: IdentityClient,
) -> None:
    member = await identity.register()
    stranger = ServiceCredentials(b"x" * 40).metadata(service="anonymity", audience="identity")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.BatchGetPersonaAttributes(
            pb.BatchGetPersonaAttributesRequest(user_ids=[member.user_id]), metadata=stranger
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
