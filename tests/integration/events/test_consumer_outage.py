"""A consumer whose database goes away waits for it: the event is applied once when it is back,
and never dead-lettered as if it were poison (that would lose its effect for good)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from support.tcp_proxy import TcpProxy, tcp_proxy
from test_outbox_consumer import metadata, note_event, notes, tables

from plumbing import db
from plumbing.events.bus import TopicSpec
from plumbing.events.consumer import EventConsumer
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.envelope import Event

pytestmark = pytest.mark.postgres


async def until(check: Callable[[], bool], within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


@pytest.fixture
async def proxied_engine(fresh_postgres_url: str) -> AsyncIterator[tuple[TcpProxy, AsyncEngine]]:
    url = make_url(fresh_postgres_url)
    async with tcp_proxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        engine = db.create_engine(
            url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        )
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield proxy, engine
        await engine.dispose()


async def test_database_away_delays_the_event_and_dead_letters_nothing(
    proxied_engine: tuple[TcpProxy, AsyncEngine], tmp_path: Path
) -> None:
    proxy, engine = proxied_engine
    bus = EmbeddedBus(tmp_path / "bus" / "events.db")
    await bus.start()
    topic = f"test.{uuid.uuid4().hex[:10]}.v1"
    await bus.create_topics([TopicSpec(topic, 1), TopicSpec(f"{topic}.dlq", 1)])

    async def handler(event: Event, session: AsyncSession) -> None:
        await session.execute(insert(notes).values(text=event.decode(StringValue).value))

    consumer = EventConsumer(
        bus,
        engine,
        tables.processed,
        group="outage",
        topics=[topic],
        handler=handler,
        max_attempts=3,
        first_backoff=0.01,
    )
    await proxy.cut(refuse=False)
    await bus.publish([note_event(topic, "during the outage")])
    await consumer.start()
    try:
        # Well past max_attempts tries against a database that resets every connection.
        await until(lambda: proxy.rejected >= 8 or consumer.dead_lettered > 0)
        assert consumer.dead_lettered == 0, "an outage is not poison"
        await proxy.start()
        await until(lambda: consumer.applied == 1)
    finally:
        await consumer.stop()
        await bus.close()
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(notes)) == 1
