"""Outbox → bus → consumer latency: synthetic outbox rows at a fixed rate through the real relay.

The API alone cannot write 500 events/s on two cores, so rows go straight into an outbox
table (as a service's transaction would add them, then `notify()` the relay as services do);
the real OutboxRelay publishes them and a real EventConsumer applies them idempotently. The
latency of an event is from its row's insert to its handler running. On the dev backend the
bus is the embedded one (SQLite); on the real one, Kafka, on a topic of the bench's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from perf.load import percentile
from perf.report import Report
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from consilium.events.v1 import content_events_pb2 as events
from plumbing.db import create_engine
from plumbing.events.bus import TopicSpec
from plumbing.events.consumer import EventConsumer
from plumbing.events.envelope import Event, new_event
from plumbing.events.factory import create_bus
from plumbing.events.outbox import OutboxRelay, add_to_outbox
from plumbing.events.runtime import EventTables

TICK = 0.01  # rows are written in 10 ms batches, as a busy service's commits would be


@contextlib.asynccontextmanager
async def _engine(data_dir: Path, backend: str) -> AsyncIterator[AsyncEngine]:
    if backend == "dev":
        engine = create_engine(f"sqlite+aiosqlite:///{data_dir / 'events.db'}")
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    from perf.stack import real_databases  # only the real backend needs a server

    async with real_databases(("events",)) as urls:
        engine = create_engine(urls["events"])
        try:
            yield engine
        finally:
            await engine.dispose()


def _event(topic: str, number: int) -> Event:
    message = events.PostCreated(post_id=f"pst_bench{number}", community_id="lounge-stories")
    return new_event(message, topic=topic, key=f"pst_bench{number}", source="/consilium/bench")


async def run(report: Report, data_dir: Path, backend: str, smoke: bool) -> None:
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    bootstrap = os.environ["CONSILIUM_TEST_KAFKA_BOOTSTRAP"] if backend == "real" else None
    topic = f"bench.events.{uuid.uuid4().hex[:8]}.v1"
    async with _engine(data_dir, backend) as engine:
        metadata = MetaData()
        tables = EventTables.add_to(metadata)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        bus = create_bus(kafka_bootstrap=bootstrap, data_dir=data_dir, client_id="bench")
        await bus.start()
        await bus.create_topics([TopicSpec(topic, partitions=3), TopicSpec(f"{topic}.dlq", 1)])
        written: dict[str, float] = {}
        latencies: list[float] = []

        async def handle(event: Event, _session: AsyncSession) -> None:
            latencies.append(time.perf_counter() - written[event.id])

        relay = OutboxRelay(engine, tables.outbox, bus)
        consumer = EventConsumer(
            bus, engine, tables.processed, group="bench", topics=[topic], handler=handle
        )
        relay.start()
        await consumer.start()
        try:
            for rate in (20,) if smoke else (100, 500):
                latencies.clear()
                sent = await _feed(
                    engine, tables, relay, topic, rate, 0.5 if smoke else 5.0, written
                )
                async with asyncio.timeout(30):
                    while len(latencies) < sent:  # noqa: ASYNC110 - the consumer has no event
                        await asyncio.sleep(0.05)
                name = f"events.outbox_to_consumer.{rate}_per_s"
                report.add(f"{name}.p50", percentile(latencies, 0.5) * 1000, "ms")
                report.add(f"{name}.p99", percentile(latencies, 0.99) * 1000, "ms")
        finally:
            await consumer.stop()
            await relay.stop()
            await bus.close()


async def _feed(
    engine: AsyncEngine,
    tables: EventTables,
    relay: OutboxRelay,
    topic: str,
    rate: int,
    seconds: float,
    written: dict[str, float],
) -> int:
    """Writes `rate` events a second for `seconds`, on a fixed schedule; returns how many."""
    total = int(rate * seconds)
    began = time.perf_counter()
    sent = 0
    while sent < total:
        due = min(total, int((time.perf_counter() - began) * rate) + 1)
        batch = [_event(topic, n) for n in range(sent, due)]
        async with AsyncSession(engine) as session, session.begin():
            await add_to_outbox(session, tables.outbox, batch)
        now = time.perf_counter()
        written.update((e.id, now) for e in batch)
        relay.notify()
        sent = due
        await asyncio.sleep(TICK)
    return sent
