"""Fixtures: a content server over real gRPC on loopback, on SQLite and on real PostgreSQL.

`content_events` adds the event bus: the embedded one and a real Kafka broker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from content_harness import ContentClient
from events_harness import EventsClient
from support.service_channel import service_channel

from cli.topics import create_topics
from consilium.content.v1 import content_pb2_grpc
from plumbing.events.factory import create_bus
from services.content.app import build
from services.content.settings import ContentSettings


@pytest.fixture
async def content(database_url: str, tmp_path: Path) -> AsyncIterator[ContentClient]:
    settings = ContentSettings(database_url=database_url, data_dir=tmp_path, port=0)
    async with build(settings) as instance:
        port = await instance.server.start()
        try:
            async with service_channel(
                f"127.0.0.1:{port}", tmp_path, audience="content"
            ) as channel:
                yield ContentClient(content_pb2_grpc.ContentServiceStub(channel), instance)
        finally:
            await instance.server.stop()


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
def content_kafka_bootstrap(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded bus under the test's data dir, else the real broker's address."""
    if request.param == "embedded":
        return None
    bootstrap: str = request.getfixturevalue("kafka_bootstrap")
    return bootstrap


@pytest.fixture
async def content_events(
    database_url: str, content_kafka_bootstrap: str | None, tmp_path: Path
) -> AsyncIterator[EventsClient]:
    """A content server whose event runtime the test starts, plus a bus client of its own.

    On Kafka the topics (and the `content` group's offsets) outlive a test, so tests tell
    their records apart by key (post and alias ids are fresh in every test).
    """
    await create_topics(content_kafka_bootstrap, tmp_path)
    bus = create_bus(kafka_bootstrap=content_kafka_bootstrap, data_dir=tmp_path, client_id="test")
    await bus.start()
    try:
        settings = ContentSettings(
            database_url=database_url,
            data_dir=tmp_path,
            port=0,
            kafka_bootstrap=content_kafka_bootstrap,
        )
        async with build(settings) as instance:
            port = await instance.server.start()
            client: EventsClient | None = None
            try:
                address = f"127.0.0.1:{port}"
                async with service_channel(address, tmp_path, audience="content") as channel:
                    stub = content_pb2_grpc.ContentServiceStub(channel)
                    client = EventsClient(ContentClient(stub, instance), bus)
                    yield client
            finally:
                await instance.server.stop()
                if client is not None:
                    await client.stop()
    finally:
        await bus.close()
