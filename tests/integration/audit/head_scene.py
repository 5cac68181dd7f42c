"""The producers' side of the tamper scene: their signed heads, served over gRPC and on the topic.

The scene's producers are `audit_harness.Producer`s, so their heads are served here by the
real `HeadServicer` over a real gRPC server (one per producer, as each service runs its own),
admitting only the auditor's token, and published as `AuditHeadSigned` on the audit topic the
way `HeadPublisher` does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import grpc
from audit_harness import Producer
from tamper_scene import Scene

from cli.audit import Options, run_verify
from cli.audit.verify import Outcome
from consilium.audit.v1 import audit_pb2 as pb
from consilium.audit.v1 import audit_pb2_grpc
from consilium.events.v1 import audit_events_pb2 as epb
from plumbing.audithead import sign_head
from plumbing.audithead_producer import HeadServicer
from plumbing.auth import Role
from plumbing.errors import PermissionDenied
from plumbing.events.envelope import new_event
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS
from plumbing.grpc.caller import caller_token
from plumbing.grpc.server import GrpcServer, ServiceBinding
from plumbing.signingkeys import SigningKey


class ProducerHeads:
    """`ChainHeads` for a test producer: its head as it stands, signed with its current key."""

    def __init__(self, producer: Producer) -> None:
        self.producer = producer

    async def current(self) -> pb.SignedHead:
        p = self.producer
        return sign_head(p.name, p.sequence, p.last_hash, SigningKey.of(p.key))


def head_record(producer: Producer) -> Any:
    head = sign_head(
        producer.name, producer.sequence, producer.last_hash, SigningKey.of(producer.key)
    )
    return new_event(
        epb.AuditHeadSigned(head=head),
        topic=AUDIT_IDENTITY_ACCESS,
        key=producer.name,
        source=f"/consilium/{producer.name}",
    )


@asynccontextmanager
async def head_servers(
    producers: Sequence[Producer], auditor_token: str
) -> AsyncIterator[list[str]]:
    """One gRPC server per producer serving its head; yields `NAME=HOST:PORT` options."""

    async def authorize() -> None:
        if caller_token() != auditor_token:
            raise PermissionDenied("a producer's audit head is for the AUDITOR role")

    servers = [
        GrpcServer(
            component=producer.name,
            bindings=[
                ServiceBinding(
                    pb.DESCRIPTOR.services_by_name["AuditHeadService"].full_name,
                    audit_pb2_grpc.add_AuditHeadServiceServicer_to_server,
                    HeadServicer(ProducerHeads(producer), authorize),  # type: ignore[arg-type]
                )
            ],
            address="127.0.0.1:0",
        )
        for producer in producers
    ]
    try:
        addresses = []
        for producer, server in zip(producers, servers, strict=True):
            addresses.append(f"{producer.name}=127.0.0.1:{await server.start()}")
        yield addresses
    finally:
        for server in servers:
            await server.stop()


async def auditor_token(scene: Scene) -> str:
    return dict(await scene.ledger.token(Role.AUDITOR))["authorization"].split()[1]


async def verify_with_heads(
    scene: Scene,
    heads: str,
    addresses: Sequence[str] = (),
    *,
    state: bool = False,
    from_topic: bool = False,
) -> Outcome:
    """`consilium audit verify --heads <heads>`, by default without any kept state: only the
    producers' heads stand between the auditor and a ledger that rewrote its own history."""
    options = Options(
        await auditor_token(scene),
        f"127.0.0.1:{scene.ledger.instance.server.port}",
        producers=scene.producers_file,
        data_dir=scene.settings.data_dir,
        heads=heads,
        producer_addresses=tuple(addresses),
        head_wait=0.2,
    )
    return await run_verify(
        options, state_file=scene.state_file if state else None, from_topic=from_topic
    )


async def publish_heads(scene: Scene) -> None:
    await scene.ledger.publish(head_record(scene.identity), head_record(scene.anonymity))


async def rpc_code(call: Any) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK
