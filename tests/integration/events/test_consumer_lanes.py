"""On PostgreSQL a consumer applies a batch in a few lane transactions, not one per event,
and still applies each event once, in order per key, retrying and dead-lettering as before."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from sqlalchemy import Column, MetaData, String, Table, event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from support.engines import engine_with

from plumbing.events.bus import TopicSpec
from plumbing.events.consumer import EventConsumer
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.envelope import Event, new_event
from plumbing.events.runtime import EventTables

pytestmark = pytest.mark.postgres

metadata = MetaData()
notes = Table("lane_notes", metadata, Column("text", String(100), primary_key=True))
tables = EventTables.add_to(metadata)
KEYS = 10
PER_KEY = 4


@pytest.fixture
async def engine(fresh_postgres_url: str) -> AsyncIterator[AsyncEngine]:
    async with engine_with(fresh_postgres_url, metadata) as created:
        yield created


async def test_lanes_apply_once_in_key_order_with_few_commits(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    bus = EmbeddedBus(tmp_path / "bus" / "events.db")
    await bus.start()
    topic = f"test.{uuid.uuid4().hex[:10]}.v1"
    await bus.create_topics([TopicSpec(topic, partitions=3), TopicSpec(f"{topic}.dlq", 1)])
    calls: Counter[str] = Counter()
    applied: dict[str, list[int]] = defaultdict(list)
    flaky = {"k5-1"}

    async def handler(event: Event, session: AsyncSession) -> None:
        text = event.decode(StringValue).value
        calls[text] += 1
        await session.execute(insert(notes).values(text=text))  # undone when it fails
        if text == "k3-2":
            raise ValueError("poison")
        if text in flaky:
            flaky.discard(text)
            raise ValueError("fails once")
        key, seq = text.split("-")
        applied[key].append(int(seq))

    commits = 0

    def count(*_: Any) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    consumer = EventConsumer(
        bus,
        engine,
        tables.processed,
        group="lanes",
        topics=[topic],
        handler=handler,
        concurrency=3,
        max_attempts=3,
        first_backoff=0.01,
    )
    texts = [f"k{k}-{s}" for s in range(PER_KEY) for k in range(KEYS)]
    await bus.publish(
        [
            new_event(StringValue(value=t), topic=topic, key=t.split("-")[0], source="/test")
            for t in texts
        ]
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 30
        while consumer.applied + consumer.dead_lettered < len(texts):
            assert time.monotonic() < deadline, "the batch was not consumed in time"
            await asyncio.sleep(0.05)
    finally:
        await consumer.stop()
        await bus.close()

    assert consumer.applied == len(texts) - 1 and consumer.dead_lettered == 1
    assert calls["k3-2"] == 3, "the poison event got other than max_attempts tries"
    assert calls["k5-1"] == 2
    assert {t for t, n in calls.items() if n != 1} == {"k3-2", "k5-1"}, "applied twice"
    for key, seqs in applied.items():
        expected = [s for s in range(PER_KEY) if f"{key}-{s}" != "k3-2"]
        assert seqs == expected, f"{key} applied out of order"
    async with engine.connect() as conn:
        stored = await conn.scalar(select(func.count()).select_from(notes))
    assert stored == len(texts) - 1, "a failed handler's write was kept"
    # One transaction per event would be 40 commits or more.
    assert commits < len(texts) // 2, f"{commits} commits for {len(texts)} events"
