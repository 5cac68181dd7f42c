"""The embedded bus forgets like Kafka: records older than the retention are deleted (P6).

A record kept forever would keep whatever it says past a person's erasure; Kafka deletes
segments older than `retention.ms`, and so does the embedded bus, without offsets going back.
"""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

from google.protobuf.wrappers_pb2 import StringValue

from plumbing.events.bus import Record, Subscription, TopicSpec
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.envelope import Event, new_event
from plumbing.events.factory import RETENTION_ENV, create_bus

HOUR_MS = 3600 * 1000


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def event(topic: str, key: str, text: str) -> Event:
    return new_event(StringValue(value=text), topic=topic, key=key, source="/consilium/test")


def texts(records: list[Record]) -> list[str]:
    return [r.event.decode(StringValue).value for r in records if r.event is not None]


async def read_all(subscription: Subscription) -> list[Record]:
    records: list[Record] = []
    while batch := await subscription.fetch(max_records=100, wait=0.2):
        records.extend(batch)
    return records


def stored(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])


async def test_records_older_than_the_topic_retention_are_deleted(tmp_path: Path) -> None:
    clock, path = Clock(), tmp_path / "events.db"
    bus = EmbeddedBus(path, clock=clock)
    await bus.start()
    topic = f"test.{uuid.uuid4().hex[:8]}.v1"
    await bus.create_topics([TopicSpec(topic, partitions=1, retention_ms=HOUR_MS)])
    try:
        await bus.publish([event(topic, "k", "old secret")])
        clock.now += 1800
        await bus.publish([event(topic, "k", "recent")])
        assert await bus.delete_expired() == 0  # nothing is an hour old yet
        clock.now += 1801
        assert await bus.delete_expired() == 1
        assert stored(path) == 1
        fresh = await bus.subscribe(group=f"g-{uuid.uuid4().hex[:6]}", topics=[topic])
        records = await read_all(fresh)
        await fresh.close()
        assert texts(records) == ["recent"]
        assert records[0].offset == 1  # offsets never move back
    finally:
        await bus.close()
    assert b"old secret" not in path.read_bytes()


async def test_offsets_continue_after_a_partition_is_emptied(tmp_path: Path) -> None:
    clock, path = Clock(), tmp_path / "events.db"
    bus = EmbeddedBus(path, clock=clock)
    await bus.start()
    topic = f"test.{uuid.uuid4().hex[:8]}.v1"
    await bus.create_topics([TopicSpec(topic, partitions=1, retention_ms=HOUR_MS)])
    group = f"g-{uuid.uuid4().hex[:6]}"
    try:
        await bus.publish([event(topic, "k", f"m{i}") for i in range(3)])
        reader = await bus.subscribe(group=group, topics=[topic])
        await reader.commit(await read_all(reader))
        await reader.close()
        clock.now += 2 * 3600
        assert await bus.delete_expired() == 3
        late = await bus.subscribe(
            group=f"late-{uuid.uuid4().hex[:6]}", topics=[topic], from_beginning=False
        )
        await bus.publish([event(topic, "k", "after")])
        again = await bus.subscribe(group=group, topics=[topic])
        records = await read_all(again)
        late_records = await read_all(late)
        await again.close()
        await late.close()
        # The committed group is not sent back to offset 0, nor does it miss the new record.
        assert [(r.offset, t) for r, t in zip(records, texts(records), strict=True)] == [
            (3, "after")
        ]
        assert texts(late_records) == ["after"]
    finally:
        await bus.close()


async def test_expired_records_go_without_being_asked(tmp_path: Path) -> None:
    """A running bus deletes on its own (at start, then as it publishes), as Kafka does."""
    clock, path = Clock(), tmp_path / "events.db"
    bus = EmbeddedBus(path, clock=clock)
    await bus.start()
    topic = f"test.{uuid.uuid4().hex[:8]}.v1"
    await bus.create_topics([TopicSpec(topic, partitions=1, retention_ms=HOUR_MS)])
    await bus.publish([event(topic, "k", "old")])
    clock.now += 2 * 3600
    await bus.publish([event(topic, "k", "new")])
    assert stored(path) == 1
    await bus.close()
    clock.now += 2 * 3600
    restarted = EmbeddedBus(path, clock=clock)
    await restarted.start()
    await restarted.close()
    assert stored(path) == 0


async def test_the_retention_is_configurable(tmp_path: Path) -> None:
    clock = Clock()
    bus = create_bus(
        kafka_bootstrap=None,
        data_dir=tmp_path,
        client_id="test",
        environ={RETENTION_ENV: "60"},
        clock=clock,
    )
    assert isinstance(bus, EmbeddedBus)
    await bus.start()
    topic = f"test.{uuid.uuid4().hex[:8]}.v1"
    # A topic made for 30 days is cut to the configured minute.
    await bus.create_topics([TopicSpec(topic, partitions=1, retention_ms=30 * 24 * HOUR_MS)])
    try:
        await bus.publish([event(topic, "k", "a")])
        clock.now += 61
        assert await bus.delete_expired() == 1
    finally:
        await bus.close()
