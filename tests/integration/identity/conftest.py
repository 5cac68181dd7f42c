"""Fixtures: an identity server over real gRPC on loopback, on SQLite and on real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from identity_events_harness import PhysicianTopic
from identity_harness import IdentityClient, running
from support.identity_server import FAST_ARGON2

from plumbing.events.kafka import KafkaBus
from plumbing.events.topics import IDENTITY_PHYSICIANS, topic_specs
from services.identity.settings import IdentitySettings


@pytest.fixture
def identity_settings(database_url: str, tmp_path: Path) -> IdentitySettings:
    return IdentitySettings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        port=0,
        **FAST_ARGON2,  # type: ignore[arg-type]
    )


@pytest.fixture
async def identity(identity_settings: IdentitySettings) -> AsyncIterator[IdentityClient]:
    async with running(identity_settings) as client:
        yield client


@pytest.fixture
async def evented(
    identity_settings: IdentitySettings, kafka_bootstrap: str
) -> AsyncIterator[IdentityClient]:
    """Identity on the real Kafka broker: its bus is started, its relay is not.

    Tests publish with `instance.events.relay.publish_pending()`, so they decide when.
    """
    bus = KafkaBus(kafka_bootstrap, client_id=f"identity-test-{uuid.uuid4().hex[:8]}")
    await bus.create_topics(topic_specs())
    await bus.start()
    try:
        async with running(identity_settings, bus=bus) as client:
            yield client
    finally:
        await bus.close()


@pytest.fixture
async def physician_topic(kafka_bootstrap: str) -> AsyncIterator[PhysicianTopic]:
    """`identity.physicians.v1` read from the beginning by a fresh consumer group."""
    bus = KafkaBus(kafka_bootstrap, client_id=f"reader-{uuid.uuid4().hex[:8]}")
    await bus.create_topics(topic_specs())
    await bus.start()
    subscription = await bus.subscribe(
        group=f"identity-test-{uuid.uuid4().hex[:8]}", topics=[IDENTITY_PHYSICIANS]
    )
    try:
        yield PhysicianTopic(subscription)
    finally:
        await subscription.close()
        await bus.close()
