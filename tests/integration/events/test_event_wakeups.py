"""Idle relays and readers sleep long, yet a new event still goes out at once.

The relay's poll slows down while its outbox stays empty and an embedded-bus reader waits for
the file to change instead of querying it: these tests give both a poll interval far longer
than their bounded waits, so an event only arrives in time if the wake-up works.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from sqlalchemy import MetaData, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from support.engines import engine_with

from plumbing.events import embedded
from plumbing.events.bus import EventBus, Record, TopicSpec
from plumbing.events.embedded import EmbeddedBus, EmbeddedSubscription
from plumbing.events.envelope import Event, new_event
from plumbing.events.outbox import OutboxRelay, add_to_outbox
from plumbing.events.runtime import EventTables

metadata = MetaData()
tables = EventTables.add_to(metadata)
#: Longer than any wait below: an event that waited for the poll would fail the test.
LONG_POLL = 120.0
#: How long an event may take to arrive (generous for two busy cores; the poll is far longer).
PROMPT = 10.0


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    async with engine_with(database_url, metadata) as created:
        yield created


#: A relay that polls only every LONG_POLL seconds: only a wake-up brings it back in time.
SLOW_POLL = {"idle_interval": LONG_POLL, "max_idle_interval": LONG_POLL}


def slow_poll_relay(engine: AsyncEngine, bus: EventBus) -> OutboxRelay:
    return OutboxRelay(engine, tables.outbox, bus, **SLOW_POLL)


def note(topic: str, text: str) -> Event:
    return new_event(StringValue(value=text), topic=topic, key="k", source="/test")


async def write(engine: AsyncEngine, event: Event) -> None:
    """A use case's transaction: it queues the event and notifies nobody itself."""
    async with AsyncSession(engine) as session, session.begin():
        await add_to_outbox(session, tables.outbox, [event])


async def wait_until(check: Callable[[], bool], wait: float = PROMPT) -> None:
    deadline = time.monotonic() + wait
    while not check():
        assert time.monotonic() < deadline, "not within the bound: it waited for the poll"
        await asyncio.sleep(0.01)


def outbox_row(event: Event) -> dict[str, object]:
    """The row another process (a CLI, another replica) writes straight into the outbox."""
    return {
        "event_id": event.id,
        "topic": event.topic,
        "event_key": event.key,
        "event_type": event.type,
        "source": event.source,
        "data": event.data,
        "traceparent": event.traceparent,
        "occurred_at": event.time,
    }


async def received(bus: EventBus, topic: str, count: int) -> list[str]:
    subscription = await bus.subscribe(group=f"g-{uuid.uuid4().hex[:6]}", topics=[topic])
    texts: list[str] = []
    try:
        async with asyncio.timeout(PROMPT):
            while len(texts) < count:
                records = await subscription.fetch(max_records=10, wait=1)
                texts += [r.event.decode(StringValue).value for r in records if r.event]
    finally:
        await subscription.close()
    return texts


async def test_an_event_written_while_the_relay_is_backed_off_goes_out_at_once(
    engine: AsyncEngine, bus: EventBus, topic: str
) -> None:
    relay = slow_poll_relay(engine, bus)
    relay.start()
    try:
        await write(engine, note(topic, "first"))
        await wait_until(lambda: relay.published == 1)
        # The relay now waits LONG_POLL seconds before it looks again: only the commit of
        # the next write can bring it back in time.
        await write(engine, note(topic, "second"))
        await wait_until(lambda: relay.published == 2)
    finally:
        await relay.stop()
    assert await received(bus, topic, 2) == ["first", "second"]


class GatedBus:
    """A bus whose publish waits at a gate, to hold the relay in the middle of a pass."""

    def __init__(self, inner: EventBus) -> None:
        self.inner = inner
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def publish(self, events: Sequence[Event]) -> None:
        self.entered.set()
        await self.gate.wait()
        await self.inner.publish(events)


async def test_a_write_during_a_relay_pass_is_not_left_for_the_next_poll(
    engine: AsyncEngine, bus: EventBus, topic: str
) -> None:
    gated = GatedBus(bus)
    relay = slow_poll_relay(engine, gated)  # type: ignore[arg-type]
    relay.start()
    try:
        await write(engine, note(topic, "first"))
        async with asyncio.timeout(PROMPT):
            await gated.entered.wait()  # "first" read, its publish held
        await write(engine, note(topic, "second"))  # committed (and notified) mid-pass
        gated.gate.set()
        await wait_until(lambda: relay.published == 2)
    finally:
        gated.gate.set()
        await relay.stop()
    assert await received(bus, topic, 2) == ["first", "second"]


async def test_a_relay_stopping_sends_what_another_process_wrote_without_waiting_for_the_poll(
    engine: AsyncEngine, bus: EventBus, topic: str
) -> None:
    relay = slow_poll_relay(engine, bus)
    relay.start()
    await write(engine, note(topic, "first"))
    await wait_until(lambda: relay.published == 1)
    # Another process's write (a CLI, another replica) wakes nobody in this one.
    late = note(topic, "late")
    async with engine.begin() as conn:
        await conn.execute(insert(tables.outbox), outbox_row(late))
    # One more attempt sends it, then no wait for the poll. (Not `asyncio.timeout`: stop()
    # swallows the cancellation, and the relay would stop anyway.)
    stopping = asyncio.create_task(relay.stop())
    done, _ = await asyncio.wait({stopping}, timeout=PROMPT)
    assert stopping in done, "the relay waited for its poll before stopping"
    assert relay.published == 2
    assert await received(bus, topic, 2) == ["first", "late"]


class FailingBus:
    """A bus that is away: every publish fails."""

    async def publish(self, events: Sequence[Event]) -> None:
        raise ConnectionError("the broker is away")


async def test_a_relay_backed_off_from_a_failing_bus_stops_at_once_and_keeps_the_row(
    engine: AsyncEngine, topic: str
) -> None:
    relay = OutboxRelay(
        engine,
        tables.outbox,
        FailingBus(),  # type: ignore[arg-type]
        first_backoff=LONG_POLL,
        max_backoff=LONG_POLL,
        **SLOW_POLL,
    )
    relay.start()
    await write(engine, note(topic, "kept"))
    await wait_until(lambda: relay.failures == 1)  # now backed off for LONG_POLL seconds
    stopping = asyncio.create_task(relay.stop())
    done, _ = await asyncio.wait({stopping}, timeout=PROMPT)
    assert stopping in done, "the relay sat out its backoff before stopping"
    assert relay.failures == 2  # one last try, made at once
    assert await relay.pending() == 1  # unsent, so the next start sends it


class HeldRelay(OutboxRelay):
    """A relay whose passes that find nothing wait at a gate before they report it."""

    def __init__(self, engine: AsyncEngine, bus: EventBus) -> None:
        super().__init__(engine, tables.outbox, bus, **SLOW_POLL)
        self.found_nothing = asyncio.Event()
        self.gate = asyncio.Event()

    async def publish_pending(self) -> int:
        sent = await super().publish_pending()
        if sent == 0:
            self.found_nothing.set()
            await self.gate.wait()
        return sent


async def test_a_stop_asked_during_a_pass_that_found_nothing_still_gets_a_pass_of_its_own(
    engine: AsyncEngine, bus: EventBus, topic: str
) -> None:
    """The race CI once caught: a pass looks, finds nothing, and only then is the row
    committed and the stop asked. That pass cannot count as the last attempt."""
    relay = HeldRelay(engine, bus)
    relay.start()
    stopping: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(PROMPT):
            await relay.found_nothing.wait()  # the first pass has looked: nothing to send
        late = note(topic, "late")
        async with engine.begin() as conn:  # another process's write: it wakes nobody here
            await conn.execute(insert(tables.outbox), outbox_row(late))
        stopping = asyncio.create_task(relay.stop())
        await asyncio.sleep(0)  # stop() is asked while that pass is still under way
        relay.gate.set()
        done, _ = await asyncio.wait({stopping}, timeout=PROMPT)
        assert stopping in done, "the relay waited for its poll before stopping"
    finally:
        relay.gate.set()
        await (stopping if stopping is not None else relay.stop())
    assert relay.published == 1
    assert await received(bus, topic, 1) == ["late"]


@pytest.fixture
async def bus_file(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedBus, EmbeddedBus, str]]:
    """Two embedded buses on one file, a reader's and a writer's, and a fresh topic."""
    path = tmp_path / "bus" / "events.db"
    reader, writer = EmbeddedBus(path), EmbeddedBus(path)
    await reader.start()
    await writer.start()
    topic = f"test.{uuid.uuid4().hex[:10]}.v1"
    await writer.create_topics([TopicSpec(topic, partitions=3)])
    yield reader, writer, topic
    await reader.close()
    await writer.close()


async def test_a_reader_sees_another_process_publish_without_polling_the_records(
    bus_file: tuple[EmbeddedBus, EmbeddedBus, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    reader, writer, topic = bus_file
    # Another process's commit wakes nobody here: only the file's data version tells.
    monkeypatch.setattr(embedded, "announce_commit", lambda path: None)
    subscription = await reader.subscribe(group="g", topics=[topic])
    try:
        assert await subscription.fetch(max_records=10, wait=0) == []
        waiting = asyncio.create_task(subscription.fetch(max_records=10, wait=LONG_POLL))
        await writer.publish([note(topic, "from elsewhere")])
        async with asyncio.timeout(PROMPT):
            records = await waiting
    finally:
        await subscription.close()
    assert [r.event.decode(StringValue).value for r in records if r.event] == ["from elsewhere"]


async def test_an_idle_reader_reads_nothing_until_the_file_changes(
    bus_file: tuple[EmbeddedBus, EmbeddedBus, str],
) -> None:
    reader, writer, topic = bus_file
    subscription = await reader.subscribe(group="g", topics=[topic])
    assert isinstance(subscription, EmbeddedSubscription)
    reads = 0
    read = subscription._read

    async def counting(max_records: int) -> list[Record]:
        nonlocal reads
        reads += 1
        return await read(max_records)

    subscription._read = counting  # type: ignore[method-assign]
    try:
        assert await subscription.fetch(max_records=10, wait=0) == []
        assert reads == 1
        for _ in range(5):  # what a consumer's loop does while nothing happens
            assert await subscription.fetch(max_records=10, wait=0.02) == []
        assert reads == 1, "an idle reader queried the partitions again"
        waiting = asyncio.create_task(subscription.fetch(max_records=10, wait=LONG_POLL))
        await writer.publish([note(topic, "news")])  # this process: wakes the reader at once
        async with asyncio.timeout(PROMPT):
            records = await waiting
    finally:
        await subscription.close()
    assert [r.event.decode(StringValue).value for r in records if r.event] == ["news"]
