"""The same event flow on a real Kafka broker: identity's events in, alias events out.

A suspension arriving over Kafka bans the person's writing and announces no alias; a
moderator hiding one alias sends one event for that alias.

The topics are the real ones, shared with other tests on the broker, so this test waits
for the effects it caused and looks only at its own aliases, not at counters.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from anonymity_harness import anonymity_settings, identity_event, running_anonymity

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.events.v1 import anonymity_events_pb2 as aev
from consilium.events.v1 import identity_events_pb2 as iev
from plumbing.auth import Role
from plumbing.events.kafka import KafkaBus
from plumbing.events.topics import ANONYMITY_ALIASES
from services.identity.app import Identity

pytestmark = pytest.mark.kafka


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: storage is covered on PostgreSQL elsewhere; here the bus is under test."""
    return f"sqlite+aiosqlite:///{tmp_path / 'anonymity.db'}"


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(30):
        while not await check():  # noqa: ASYNC110 - polling an effect across processes
            await asyncio.sleep(0.1)


async def test_suspension_and_hiding_over_kafka(
    database_url: str, data_dir: Path, identity_server: Identity, kafka_bootstrap: str
) -> None:
    settings = anonymity_settings(database_url, data_dir, identity_server)

    def kafka() -> KafkaBus:
        return KafkaBus(kafka_bootstrap, client_id=f"test-{uuid.uuid4().hex[:8]}")

    async with running_anonymity(settings, identity_server, bus_factory=kafka) as stack:
        doctor = await stack.physician()
        thread = await stack.scope(doctor)
        hidden = (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id
        kept = (await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, thread)).alias_id
        uid = doctor.user_id
        await stack.bus.publish([identity_event(iev.PhysicianSuspended(user_id=uid), uid)])

        async def banned() -> bool:
            try:
                await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, thread)
            except grpc.aio.AioRpcError as error:
                return error.code() == grpc.StatusCode.FAILED_PRECONDITION
            return False

        await eventually(banned)  # the account's suspension arrived over Kafka
        moderator = await stack.staff(Role.MODERATOR)
        await stack.anonymity.ActOnAlias(
            pb.ActOnAliasRequest(alias_id=hidden, action=pb.ALIAS_ACTION_HIDE, reason="spam"),
            metadata=moderator.metadata,
        )
        subscription = await stack.bus.subscribe(
            group=f"test-{uuid.uuid4().hex[:8]}", topics=[ANONYMITY_ALIASES]
        )
        seen: dict[str, int] = {}
        try:

            async def relayed() -> bool:
                for record in await subscription.fetch(max_records=500, wait=0.5):
                    event = record.event
                    if event is not None and event.key in (hidden, kept):
                        message = event.decode(aev.AliasSuspended)
                        assert event.type == aev.AliasSuspended.DESCRIPTOR.full_name
                        seen[message.alias_id] = message.cause
                return hidden in seen

            await eventually(relayed)
        finally:
            await subscription.close()
        assert seen == {hidden: aev.ALIAS_SUSPENSION_CAUSE_MODERATION}, "the hidden alias only"
        personas = await stack.describe(hidden, kept)
        assert personas[kept].state == pb.ALIAS_STATE_ACTIVE
