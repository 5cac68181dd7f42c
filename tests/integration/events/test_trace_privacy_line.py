"""Traces stop at the privacy line: alias events made while handling a person-keyed event start
new traces, sharing nothing with the person event's trace nor with each other (A3, P2)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from support.engines import engine_with
from support.tracing import recorded_spans

from plumbing.events.bus import EventBus, TopicSpec
from plumbing.events.consumer import EventConsumer
from plumbing.events.envelope import Event, new_event
from plumbing.events.outbox import OutboxRelay, add_to_outbox
from plumbing.events.runtime import EventTables

metadata = MetaData()
tables = EventTables.add_to(metadata)
_tracer = trace.get_tracer("tests.trace-privacy-line")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Real trace ids for this test (see support.tracing)."""
    with recorded_spans() as exporter:
        yield exporter


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with engine_with(f"sqlite+aiosqlite:///{tmp_path / 'anonymity.db'}", metadata) as created:
        yield created


async def fresh_topic(bus: EventBus, kind: str) -> str:
    name = f"test.{kind}.{uuid.uuid4().hex[:10]}.v1"
    await bus.create_topics([TopicSpec(name, partitions=1), TopicSpec(f"{name}.dlq", 1)])
    return name


def trace_id(traceparent: str | None) -> str | None:
    return traceparent.split("-")[1] if traceparent else None


class SuspendEveryAlias:
    """Like anonymity's identity handler: one person event in, one event per alias out."""

    person_keyed = True

    def __init__(self, alias_topic: str, outbox_tables: EventTables) -> None:
        self._topic = alias_topic
        self._tables = outbox_tables
        self.seen_trace: str | None = None

    async def __call__(self, event: Event, session: AsyncSession) -> None:
        self.seen_trace = format(trace.get_current_span().get_span_context().trace_id, "032x")
        person = event.decode(StringValue).value
        produced = [
            new_event(StringValue(value=f"{person}:{n}"), topic=self._topic, key=alias, source="/t")
            for n, alias in enumerate(("als_one", "als_two", "als_three"))
        ]
        await add_to_outbox(session, self._tables.outbox, produced)


async def test_alias_events_share_no_trace_with_the_person_event_nor_each_other(
    engine: AsyncEngine, bus: EventBus, spans: InMemorySpanExporter
) -> None:
    person_topic = await fresh_topic(bus, "physicians")
    alias_topic = await fresh_topic(bus, "aliases")
    with _tracer.start_as_current_span("suspendPhysician request"):
        person_event = new_event(
            StringValue(value="usr_canary"), topic=person_topic, key="usr_canary", source="/t"
        )
    person_trace = trace_id(person_event.traceparent)
    assert person_trace, "the test needs a traced person event"
    await bus.publish([person_event])

    handler = SuspendEveryAlias(alias_topic, tables)
    consumer = EventConsumer(
        bus,
        engine,
        tables.processed,
        group=f"anonymity-{uuid.uuid4().hex[:6]}",
        topics=[person_topic],
        handler=handler,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 20
        while consumer.applied < 1:
            assert time.monotonic() < deadline, "the person event was not consumed"
            await asyncio.sleep(0.05)
    finally:
        await consumer.stop()
    assert await OutboxRelay(engine, tables.outbox, bus).publish_pending() == 3

    reader = await bus.subscribe(group=f"content-{uuid.uuid4().hex[:6]}", topics=[alias_topic])
    try:
        records = await reader.fetch(max_records=10, wait=5)
        deadline = time.monotonic() + 10
        while len(records) < 3 and time.monotonic() < deadline:
            records += await reader.fetch(max_records=10, wait=1)
    finally:
        await reader.close()
    assert len(records) == 3
    alias_traces = [trace_id(r.event.traceparent) for r in records if r.event]
    assert person_trace not in alias_traces, "an alias event continues the person's trace"
    present = [t for t in alias_traces if t is not None]
    assert len(set(present)) == len(present), "two alias events of one person share a trace"
    # Nor may any exported span tie a fresh trace back to the person's (no parent, no link).
    fresh = set(present)
    for span in spans.get_finished_spans():
        own = format(span.context.trace_id, "032x")
        linked = {format(link.context.trace_id, "032x") for link in span.links}
        parent = format(span.parent.trace_id, "032x") if span.parent else None
        assert not (own == person_trace and (linked | {parent}) & fresh)
        assert not (own in fresh and (linked | {parent}) & {person_trace})


async def test_an_ordinary_consumer_still_continues_the_trace(
    engine: AsyncEngine, bus: EventBus, spans: InMemorySpanExporter
) -> None:
    """The opt-in is what stops the trace: other consumers keep A3's end-to-end traces."""
    topic = await fresh_topic(bus, "posts")
    with _tracer.start_as_current_span("createPost request"):
        event = new_event(StringValue(value="p"), topic=topic, key="pst_1", source="/t")
    seen: list[str] = []

    async def handler(got: Event, session: AsyncSession) -> None:
        seen.append(
            trace_id(new_event(StringValue(), topic=topic, key="k", source="/t").traceparent) or ""
        )

    await bus.publish([event])
    consumer = EventConsumer(
        bus,
        engine,
        tables.processed,
        group=f"g-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handler=handler,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 20
        while consumer.applied < 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    finally:
        await consumer.stop()
    assert seen == [trace_id(event.traceparent)]
