"""Outbox depth, consumer lag and dead letters as Prometheus sees them, over both buses."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from prometheus_client import REGISTRY, generate_latest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from support.engines import engine_with

from plumbing.events.bus import EventBus
from plumbing.events.consumer import EventConsumer
from plumbing.events.envelope import Event, new_event
from plumbing.events.outbox import add_to_outbox
from plumbing.events.runtime import EventRuntime, EventTables
from plumbing.metrics.sampler import EventSampler

metadata = MetaData()
tables = EventTables.add_to(metadata)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with engine_with(f"sqlite+aiosqlite:///{tmp_path / 'service.db'}", metadata) as created:
        yield created


def _event(topic: str, text: str, key: str = "k") -> Event:
    return new_event(StringValue(value=text), topic=topic, key=key, source="/test")


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _until(condition: Callable[[], bool], wait: float = 30.0) -> None:
    deadline = time.monotonic() + wait
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_outbox_depth_gauge_follows_the_pending_rows(
    engine: AsyncEngine, bus: EventBus, topic: str
) -> None:
    component = f"test-{uuid.uuid4().hex[:6]}"
    async with AsyncSession(engine) as session, session.begin():
        await add_to_outbox(session, tables.outbox, [_event(topic, f"e{i}") for i in range(3)])
    events = EventRuntime(bus, engine, tables)
    sampler = EventSampler(component, events)

    await sampler.sample_once()
    assert _value("consilium_outbox_pending_events", component=component) == 3

    assert await events.relay.publish_pending() == 3
    await sampler.sample_once()
    assert _value("consilium_outbox_pending_events", component=component) == 0


async def test_consumer_lag_counts_what_is_not_yet_done_then_drops_to_zero(
    engine: AsyncEngine, bus: EventBus, topic: str
) -> None:
    gate = asyncio.Event()

    async def slow(event: Event, session: AsyncSession) -> None:
        await gate.wait()

    group = f"lag-{uuid.uuid4().hex[:6]}"
    events = EventRuntime(bus, engine, tables)
    consumer = events.consume(group=group, topics=[topic], handler=slow)
    sampler = EventSampler(group, events)
    await bus.publish([_event(topic, f"e{i}", key="one") for i in range(4)])

    def lag() -> float:
        return sum(
            _value("consilium_consumer_lag_records", group=group, topic=topic, partition=str(p))
            for p in range(3)
        )

    await consumer.start()
    try:
        # The first batch is fetched and held by the gate: nothing committed, all of it lag.
        deadline = time.monotonic() + 60
        while lag() != 4:
            assert time.monotonic() < deadline, f"lag never reached 4 (last {lag()})"
            await sampler.sample_once()
            await asyncio.sleep(0.1)
        gate.set()
        await _until(lambda: consumer.applied == 4, wait=60)
        deadline = time.monotonic() + 60
        while lag() != 0:
            assert time.monotonic() < deadline, f"lag never fell to 0 (last {lag()})"
            await sampler.sample_once()
            await asyncio.sleep(0.1)
    finally:
        gate.set()
        await consumer.stop()


async def test_each_dead_letter_is_counted_by_group_topic_and_bounded_reason(
    engine: AsyncEngine, bus: EventBus, topic: str
) -> None:
    async def refuse(event: Event, session: AsyncSession) -> None:
        raise RuntimeError(f"cannot apply {event.id}")  # an id in the error, never in a label

    group = f"dlq-{uuid.uuid4().hex[:6]}"
    consumer = EventConsumer(
        bus,
        engine,
        tables.processed,
        group=group,
        topics=[topic],
        handler=refuse,
        max_attempts=2,
        first_backoff=0.01,
    )
    # Born at 0, before any dead letter: Prometheus' increase() sees the first one too.
    for reason in ("handler_failed", "malformed"):
        labels = {"group": group, "topic": topic, "reason": reason}
        assert REGISTRY.get_sample_value("consilium_dead_letters_total", labels) == 0
    poison = _event(topic, "poison")
    await bus.publish([poison])
    await bus.publish_raw(topic, b"k", b"not an event", [])

    await consumer.start()
    try:
        await _until(lambda: consumer.dead_lettered == 2, wait=60)
    finally:
        await consumer.stop()
    for reason in ("handler_failed", "malformed"):
        assert (
            _value("consilium_dead_letters_total", group=group, topic=topic, reason=reason) == 1
        ), reason
    assert poison.id not in generate_latest(REGISTRY).decode()
