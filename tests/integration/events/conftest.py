"""The same behavioural tests against the embedded bus and a real Kafka broker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plumbing.events.bus import EventBus, TopicSpec
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.kafka import KafkaBus


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
def bus_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def bus_factory(bus_kind: str, tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Makes fresh bus clients (several, to act as separate processes) of one kind."""
    if bus_kind == "embedded":
        path = tmp_path / "bus" / "events.db"
        return lambda: EmbeddedBus(path)
    bootstrap = request.getfixturevalue("kafka_bootstrap")
    return lambda: KafkaBus(bootstrap, client_id=f"test-{uuid.uuid4().hex[:8]}")


@pytest.fixture
async def bus(bus_factory) -> AsyncIterator[EventBus]:  # type: ignore[no-untyped-def]
    created: EventBus = bus_factory()
    await created.start()
    yield created
    await created.close()


@pytest.fixture
async def topic(bus: EventBus) -> str:
    """A fresh topic (and its dead-letter twin) with 3 partitions."""
    name = f"test.{uuid.uuid4().hex[:10]}.v1"
    await bus.create_topics([TopicSpec(name, partitions=3), TopicSpec(f"{name}.dlq", 1)])
    return name
