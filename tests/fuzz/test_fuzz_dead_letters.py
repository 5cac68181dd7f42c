"""Fuzzed records on a consumed topic: every bad one ends in the dead-letter topic with a
reason, every good one is applied, and the consumer keeps going (embedded bus).

The handler is anonymity's own decoding of identity's events (`physician_change`), the
first thing its consumer does with a record.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from support.engines import engine_with

from consilium.events.v1 import identity_events_pb2 as iev
from plumbing.events.bus import TopicSpec
from plumbing.events.consumer import EventConsumer, dead_letter_topic
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.envelope import Event, MalformedEvent, from_record, new_event
from plumbing.events.runtime import EventTables
from services.anonymity.adapters.event_converters import physician_change

metadata = MetaData()
tables = EventTables.add_to(metadata)
TYPES = [iev.PhysicianVerified.DESCRIPTOR.full_name, iev.PhysicianErased.DESCRIPTOR.full_name]
GOOD = {
    "ce_specversion": b"1.0",
    "ce_type": TYPES[0].encode(),
    "ce_source": b"/identity",
    "ce_time": b"2026-11-29T12:00:00+00:00",
}
Raw = tuple[bytes, bytes, list[tuple[str, bytes]]]

#: Records near the real thing: good headers with one changed or dropped, any payload bytes.
records = st.builds(
    lambda key, value, drop, changes, event_id: (
        key,
        value,
        [("ce_id", event_id)] + [(n, v) for n, v in {**GOOD, **changes}.items() if n != drop],
    ),
    st.binary(min_size=1, max_size=8),
    st.binary(max_size=40),
    st.none() | st.sampled_from(sorted(GOOD)),
    st.dictionaries(
        st.sampled_from([*GOOD, "content-type"]),
        st.binary(max_size=30) | st.sampled_from([t.encode() for t in TYPES]),
        max_size=2,
    ),
    st.just(b"replaced"),
)


def _fuzzed(count: int) -> list[Raw]:
    """`count` records, the same ones on every run (derandomized)."""
    drawn: list[Raw] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None)
    @given(records)
    def draw(record: Raw) -> None:
        drawn.append(record)

    draw()
    # Unique event ids: the consumer rightly skips a repeated one, which is not under test here.
    return [
        (key, value, [(n, f"fuzz-{i}".encode() if n == "ce_id" else v) for n, v in headers])
        for i, (key, value, headers) in enumerate(drawn[:count])
    ]


def _bad(raw: Raw, topic: str) -> bool:
    """Whether the consumer must dead-letter it: not an event, or a payload that won't decode."""
    try:
        physician_change(from_record(topic, *raw))
    except MalformedEvent:
        return True
    return False


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with engine_with(f"sqlite+aiosqlite:///{tmp_path / 'consumer.db'}", metadata) as created:
        yield created


async def test_malformed_records_are_dead_lettered_with_a_reason(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    bus = EmbeddedBus(tmp_path / "bus.db")
    await bus.start()
    topic = f"identity.fuzz{uuid.uuid4().hex[:6]}.v1"
    await bus.create_topics([TopicSpec(topic, partitions=2), TopicSpec(dead_letter_topic(topic))])
    fuzzed = _fuzzed(60)
    expected_dead = sum(_bad(raw, topic) for raw in fuzzed)
    assert 0 < expected_dead < len(fuzzed), "the fuzzer should make both kinds"
    applied: list[str] = []

    async def handler(event: Event, session: AsyncSession) -> None:
        change = physician_change(event)
        applied.append(type(change).__name__)

    consumer = EventConsumer(
        bus,
        engine,
        tables.processed,
        group="anonymity",
        topics=[topic],
        handler=handler,
        max_attempts=2,
        first_backoff=0.001,
    )
    for key, value, headers in fuzzed:
        await bus.publish_raw(topic, key, value, headers)
    last = new_event(iev.PhysicianErased(user_id="usr_last"), topic=topic, key="k", source="/t")
    await bus.publish([last])
    await consumer.start()
    try:
        deadline = time.monotonic() + 30
        while consumer.applied + consumer.skipped + consumer.dead_lettered < len(fuzzed) + 1:
            assert time.monotonic() < deadline, "the consumer stopped before the last record"
            await asyncio.sleep(0.05)
    finally:
        await consumer.stop()
    assert consumer.dead_lettered == expected_dead
    assert "PhysicianErased" in applied  # the good record after all of them

    dead = await bus.subscribe(group="dlq-reader", topics=[dead_letter_topic(topic)])
    found: list[dict[str, bytes]] = []
    try:
        deadline = time.monotonic() + 10
        while len(found) < expected_dead and time.monotonic() < deadline:
            found += [dict(r.headers) for r in await dead.fetch(max_records=100, wait=1)]
    finally:
        await dead.close()
        await bus.close()
    assert len(found) == expected_dead
    for headers in found:
        reason = headers["x-consilium-dead-letter-reason"].decode()
        assert reason.startswith(("malformed: ", "MalformedEvent after")), reason
        assert headers["x-consilium-consumer-group"] == b"anonymity"
