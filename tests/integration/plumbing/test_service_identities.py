"""Service identities over real gRPC on loopback: content and anonymity admit the gateway alone,
by a token signed with the gateway's own key (issue 9, finding 9)."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from consilium.anonymity.v1 import anonymity_pb2 as apb
from consilium.anonymity.v1 import anonymity_pb2_grpc as apb_grpc
from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import content_pb2_grpc
from plumbing.auth.service import ServiceCredentials
from plumbing.auth.servicekeys import PeerKeys
from plumbing.grpc.caller import SERVICE_TOKEN_KEY
from plumbing.signingkeys import SigningKey
from services.anonymity.app import build as build_anonymity
from services.anonymity.settings import AnonymitySettings
from services.content.app import build
from services.content.settings import ContentSettings


@dataclass
class Content:
    stub: content_pb2_grpc.ContentServiceStub
    data_dir: Path


@pytest.fixture
async def content(tmp_path: Path) -> AsyncIterator[Content]:
    settings = ContentSettings(data_dir=tmp_path, port=0)
    async with build(settings) as instance:
        port = await instance.server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                yield Content(content_pb2_grpc.ContentServiceStub(channel), tmp_path)
        finally:
            await instance.server.stop()


def dev_credentials(service: str, data_dir: Path) -> ServiceCredentials:
    """What the dev component `service` sharing this data dir would load."""
    return ServiceCredentials.load(service, data_dir, environ={})


async def refusal(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value.code()


async def test_content_refuses_a_call_without_a_service_token(content: Content) -> None:
    code = await refusal(content.stub.ListCommunities(pb.ListCommunitiesRequest()))
    assert code == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("service", ["anonymity", "identity", "audit"])
async def test_content_refuses_every_service_but_the_gateway(
    content: Content, service: str
) -> None:
    metadata = dev_credentials(service, content.data_dir).metadata(audience="content")
    code = await refusal(
        content.stub.ListCommunities(pb.ListCommunitiesRequest(), metadata=metadata)
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_content_admits_the_gateway(content: Content) -> None:
    metadata = dev_credentials("gateway", content.data_dir).metadata(audience="content")
    reply = await content.stub.ListCommunities(pb.ListCommunitiesRequest(), metadata=metadata)
    assert reply.communities


async def test_a_token_claiming_the_gateway_but_signed_by_another_key_is_refused(
    content: Content,
) -> None:
    dev_credentials("gateway", content.data_dir)  # the real gateway key, pinned by content
    for forger in (SigningKey.generate(), dev_credentials("anonymity", content.data_dir).key):
        impostor = ServiceCredentials("gateway", forger, PeerKeys.pinned({}))
        metadata = impostor.metadata(audience="content")
        code = await refusal(
            content.stub.ListCommunities(pb.ListCommunitiesRequest(), metadata=metadata)
        )
        assert code == grpc.StatusCode.UNAUTHENTICATED


async def test_a_gateway_token_for_another_audience_is_refused(content: Content) -> None:
    metadata = dev_credentials("gateway", content.data_dir).metadata(audience="anonymity")
    code = await refusal(
        content.stub.ListCommunities(pb.ListCommunitiesRequest(), metadata=metadata)
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED


async def test_a_token_of_one_service_cannot_be_replayed_as_another(content: Content) -> None:
    """Anonymity's genuine token with its issuer rewritten to the gateway fails the signature."""
    import base64
    import json

    token = dev_credentials("anonymity", content.data_dir).metadata(audience="content")[0][1]
    dev_credentials("gateway", content.data_dir)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(iss="gateway", sub="svc:gateway")
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = f"{header}.{forged_payload}.{signature}"
    code = await refusal(
        content.stub.ListCommunities(
            pb.ListCommunitiesRequest(), metadata=((SERVICE_TOKEN_KEY, forged),)
        )
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED


async def test_hiding_reaches_content_only_as_events(content: Content) -> None:
    """SetAliasHidden is offered to no caller, the gateway included."""
    metadata = dev_credentials("gateway", content.data_dir).metadata(audience="content")
    code = await refusal(
        content.stub.SetAliasHidden(
            pb.SetAliasHiddenRequest(alias_ids=["als_abc"], hidden=True), metadata=metadata
        )
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_dev_startup_makes_the_content_key_once_and_publishes_its_public_half(
    content: Content,
) -> None:
    private = content.data_dir / "keys" / "content" / "service-key.pem"
    public = content.data_dir / "keys" / "public" / "content.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(private.parent.stat().st_mode) == 0o700
    assert b"PRIVATE" not in public.read_bytes()
    before = private.read_bytes()
    async with build(ContentSettings(data_dir=content.data_dir, port=0)):
        pass
    assert private.read_bytes() == before


@pytest.fixture
async def anonymity(tmp_path: Path) -> AsyncIterator[tuple[apb_grpc.AnonymityServiceStub, Path]]:
    # Nothing here reaches identity: callers are refused before any handler runs.
    settings = AnonymitySettings(data_dir=tmp_path, port=0, identity_address="127.0.0.1:9")
    async with build_anonymity(settings) as instance:
        port = await instance.server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                yield apb_grpc.AnonymityServiceStub(channel), tmp_path
        finally:
            await instance.server.stop()


@pytest.mark.parametrize("caller", [None, "content", "identity", "audit"])
async def test_anonymity_admits_only_the_gateway(
    anonymity: tuple[apb_grpc.AnonymityServiceStub, Path], caller: str | None
) -> None:
    stub, data_dir = anonymity
    metadata = dev_credentials(caller, data_dir).metadata(audience="anonymity") if caller else ()
    code = await refusal(
        stub.BatchDescribeAliases(
            apb.BatchDescribeAliasesRequest(alias_ids=["als_x"]), metadata=metadata
        )
    )
    expected = grpc.StatusCode.PERMISSION_DENIED if caller else grpc.StatusCode.UNAUTHENTICATED
    assert code == expected
    gateway = dev_credentials("gateway", data_dir).metadata(audience="anonymity")
    reply = await stub.BatchDescribeAliases(
        apb.BatchDescribeAliasesRequest(alias_ids=["als_x"]), metadata=gateway
    )
    assert list(reply.missing_alias_ids) == ["als_x"]  # admitted, and answered
