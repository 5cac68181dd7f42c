"""Identity's events on real Kafka: each change publishes its event, failures publish none."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import grpc
import pytest
from aiokafka.errors import KafkaError
from identity_events_harness import PhysicianTopic, outbox_rows
from identity_harness import IdentityClient, next_npi, running

from consilium.events.v1 import identity_events_pb2 as ev
from consilium.identity.v1 import identity_pb2 as pb
from plumbing.auth.service import ServiceCredentials
from plumbing.events.envelope import Event
from plumbing.events.kafka import KafkaBus
from plumbing.events.outbox import OutboxRelay
from plumbing.events.topics import IDENTITY_PHYSICIANS, topic_specs
from services.identity.adapters.tables import event_tables
from services.identity.domain.events import PhysicianSuspended
from services.identity.domain.physician import Role
from services.identity.settings import IdentitySettings

pytestmark = pytest.mark.kafka


def anonymity(identity: IdentityClient) -> tuple[tuple[str, str], ...]:
    """Metadata presenting the anonymity service, as its identity client sends it."""
    credentials = ServiceCredentials.load(
        "anonymity", identity.instance.settings.data_dir, environ={}
    )
    return credentials.metadata(service="anonymity", audience="identity")


def types(events: list[Event]) -> list[str]:
    return [e.type.rsplit(".", 1)[-1] for e in events]


async def rpc_error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_register_publishes_only_the_specialty(
    evented: IdentityClient, physician_topic: PhysicianTopic
) -> None:
    canary = uuid.uuid4().hex[:12]
    email, npi = f"canary.{canary}@example.org", next_npi()
    member = await evented.register(
        email=email, npi=npi, full_name=f"Dr. Canary {canary}", specialty_code="207Q00000X"
    )
    assert await evented.instance.events.relay.publish_pending() >= 1

    (event,) = await physician_topic.events_for(member.user_id, 1)
    assert (event.topic, event.key, event.source) == (
        IDENTITY_PHYSICIANS,
        member.user_id,
        "/consilium/identity",
    )
    payload = event.decode(ev.PhysicianRegistered)
    assert payload == ev.PhysicianRegistered(user_id=member.user_id, specialty_code="207Q00000X")
    # Canary: neither the name, nor the email, nor the NPI, nor any part of them travels:
    # the topic keeps the event past the person's erasure (P6).
    record = event.data + b"".join(value for _, value in event.headers())
    for secret in (f"Canary {canary}", email, npi, f"canary.{canary}", "example.org"):
        assert secret.encode() not in record
    (row,) = await outbox_rows(evented.instance, member.user_id)
    assert row.sent_at is not None and row.event_id == event.id


async def physician_rows(identity: IdentityClient) -> list[Any]:
    """Outbox rows of physician events only (audit events share the outbox)."""
    return [r for r in await outbox_rows(identity.instance) if r.topic == IDENTITY_PHYSICIANS]


async def test_each_change_publishes_its_event_in_order(
    evented: IdentityClient, physician_topic: PhysicianTopic
) -> None:
    _, admin = await evented.staff(Role.ADMIN)
    member = await evented.register(specialty_code="207RC0000X")
    user_id = member.user_id
    stub = evented.stub
    await stub.VerifyPhysician(
        pb.VerifyPhysicianRequest(user_id=user_id, approve=True), metadata=admin
    )
    await stub.SuspendPhysician(
        pb.SuspendPhysicianRequest(user_id=user_id, reason="review"), metadata=admin
    )
    await stub.ReinstatePhysician(pb.ReinstatePhysicianRequest(user_id=user_id), metadata=admin)
    await stub.ErasePhysician(pb.ErasePhysicianRequest(user_id=user_id), metadata=admin)
    # Five physician events, and one audit event per admin action (issue 10).
    assert await evented.instance.events.relay.publish_pending() == 5 + 4

    events = await physician_topic.events_for(user_id, 5)
    assert types(events) == [
        "PhysicianRegistered",
        "PhysicianVerified",
        "PhysicianSuspended",
        "PhysicianReinstated",
        "PhysicianErased",
    ]
    assert events[1].decode(ev.PhysicianVerified) == ev.PhysicianVerified(
        user_id=user_id, specialty_code="207RC0000X"
    )
    assert events[2].decode(ev.PhysicianSuspended).user_id == user_id
    reinstated = events[3].decode(ev.PhysicianReinstated)
    assert reinstated.verification == pb.VERIFICATION_STATUS_VERIFIED
    assert events[4].decode(ev.PhysicianErased).user_id == user_id
    assert {e.key for e in events} == {user_id}
    assert len({e.id for e in events}) == 5
    assert [e.id for e in events] == [r.event_id for r in await physician_rows(evented)][-5:]


async def test_reinstating_a_pending_physician_says_so(evented: IdentityClient) -> None:
    _, admin = await evented.staff(Role.ADMIN)
    member = await evented.register()
    await evented.stub.SuspendPhysician(
        pb.SuspendPhysicianRequest(user_id=member.user_id, reason="review"), metadata=admin
    )
    await evented.stub.ReinstatePhysician(
        pb.ReinstatePhysicianRequest(user_id=member.user_id), metadata=admin
    )
    rows = await outbox_rows(evented.instance, member.user_id)
    assert [r.event_type for r in rows][-1] == "consilium.events.v1.PhysicianReinstated"
    reinstated = ev.PhysicianReinstated.FromString(rows[-1].data)
    assert reinstated.verification == pb.VERIFICATION_STATUS_PENDING


async def test_rejection_and_role_changes_publish_nothing(evented: IdentityClient) -> None:
    _, admin = await evented.staff(Role.ADMIN)
    rejected, promoted = await evented.register(), await evented.register()
    await evented.stub.VerifyPhysician(
        pb.VerifyPhysicianRequest(user_id=rejected.user_id, approve=False), metadata=admin
    )
    await evented.stub.SetRoles(
        pb.SetRolesRequest(user_id=promoted.user_id, roles=[pb.ROLE_MODERATOR]), metadata=admin
    )
    for member in (rejected, promoted):
        rows = await outbox_rows(evented.instance, member.user_id)
        assert [r.event_type for r in rows] == ["consilium.events.v1.PhysicianRegistered"]


async def test_failed_changes_publish_nothing(evented: IdentityClient) -> None:
    _, admin = await evented.staff(Role.ADMIN)
    member, member_auth = await evented.member()
    stub, user_id = evented.stub, member.user_id
    await stub.VerifyPhysician(
        pb.VerifyPhysicianRequest(user_id=user_id, approve=True), metadata=admin
    )
    before = len(await physician_rows(evented))
    taken_npi = pb.RegisterRequest(
        email="someone.else@example.org",
        password="correct horse battery staple 42",
        full_name="Dr. Someone Else",
        npi=member.npi,
        specialty_code="207RC0000X",
        country="US",
    )
    failures = [
        (lambda: stub.Register(taken_npi), grpc.StatusCode.ALREADY_EXISTS),
        (
            lambda: stub.VerifyPhysician(
                pb.VerifyPhysicianRequest(user_id=user_id, approve=True), metadata=admin
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
        (
            lambda: stub.SuspendPhysician(
                pb.SuspendPhysicianRequest(user_id=user_id, reason="x"), metadata=member_auth
            ),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
        (
            lambda: stub.SuspendPhysician(
                pb.SuspendPhysicianRequest(user_id=user_id, reason=" "), metadata=admin
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ]
    for call, code in failures:
        assert (await rpc_error(call())).code() == code
    assert len(await physician_rows(evented)) == before

    await stub.ErasePhysician(pb.ErasePhysicianRequest(user_id=user_id), metadata=admin)
    # Erasing again succeeds (a retried request) and changes nothing: no physician event.
    await stub.ErasePhysician(pb.ErasePhysicianRequest(user_id=user_id), metadata=admin)
    rows = await physician_rows(evented)
    assert len(rows) == before + 1
    assert rows[-1].event_type == "consilium.events.v1.PhysicianErased"


async def test_a_unit_that_rolls_back_leaves_no_event(evented: IdentityClient) -> None:
    member = await evented.register()
    before = await outbox_rows(evented.instance)
    with pytest.raises(RuntimeError, match="after the event"):
        async with evented.instance.store.transaction() as repo:
            await repo.emit([PhysicianSuspended(member.user_id)])
            assert repo.emitted
            raise RuntimeError("a failure after the event was queued")
    assert await outbox_rows(evented.instance) == before


async def test_anonymity_suspends_and_reinstates_with_the_same_events(
    evented: IdentityClient, physician_topic: PhysicianTopic
) -> None:
    member = await evented.register()
    service = anonymity(evented)
    suspended = await evented.stub.SuspendPhysician(
        pb.SuspendPhysicianRequest(user_id=member.user_id, reason="alias reported"),
        metadata=service,
    )
    assert suspended.physician.verification == pb.VERIFICATION_STATUS_SUSPENDED
    await evented.stub.ReinstatePhysician(
        pb.ReinstatePhysicianRequest(user_id=member.user_id), metadata=service
    )
    await evented.instance.events.relay.publish_pending()
    events = await physician_topic.events_for(member.user_id, 3)
    assert types(events) == ["PhysicianRegistered", "PhysicianSuspended", "PhysicianReinstated"]


async def test_a_started_runtime_publishes_on_its_own(
    evented: IdentityClient, physician_topic: PhysicianTopic
) -> None:
    runtime = evented.instance.events
    runtime.relay.start()  # the bus is started by the fixture
    try:
        member = await evented.register()
        (event,) = await physician_topic.events_for(member.user_id, 1)
    finally:
        await runtime.relay.stop()
    assert event.type == "consilium.events.v1.PhysicianRegistered"


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_with_kafka_down_writes_succeed_and_events_wait(
    identity_settings: IdentitySettings, kafka_bootstrap: str, physician_topic: PhysicianTopic
) -> None:
    away = KafkaBus(f"127.0.0.1:{unused_port()}", client_id="identity-test-down")
    async with running(identity_settings, bus=away) as identity:
        runtime = identity.instance.events
        await runtime.start()
        try:
            member = await identity.register()
            async with asyncio.timeout(30):
                while runtime.relay.failures == 0:  # noqa: ASYNC110 - a counter the relay owns
                    await asyncio.sleep(0.05)
            with pytest.raises(KafkaError):
                await runtime.relay.publish_pending()
        finally:
            await runtime.stop()
        (row,) = await outbox_rows(identity.instance, member.user_id)
        assert row.sent_at is None

        # The broker is back (a relay on the real one): the waiting event flows, once.
        back = KafkaBus(kafka_bootstrap, client_id="identity-test-back")
        await back.create_topics(topic_specs())
        await back.start()
        try:
            relay = OutboxRelay(identity.instance.engine, event_tables.outbox, back)
            assert await relay.publish_pending() == 1
            assert await relay.publish_pending() == 0
        finally:
            await back.close()
    (event,) = await physician_topic.events_for(member.user_id, 1)
    assert event.id == row.event_id
