"""Outbox, relay and idempotent consumer on a real database, over both buses."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from support.engines import engine_with

from plumbing.events.bus import EventBus
from plumbing.events.consumer import EventConsumer, dead_letter_topic
from plumbing.events.envelope import Event, new_event
from plumbing.events.kafka import KafkaBus
from plumbing.events.outbox import OutboxRelay, add_to_outbox
from plumbing.events.runtime import EventTables

metadata = MetaData()
notes = Table("notes", metadata, Column("text", String(100), primary_key=True))
tables = EventTables.add_to(metadata)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    async with engine_with(database_url, metadata) as created:
        yield created


def note_event(topic: str, text: str) -> Event:
    return new_event(StringValue(value=text), topic=topic, key=text[:1], source="/test")


async def write(engine: AsyncEngine, topic: str, text: str, *, fail: bool = False) -> None:
    """A state change and its event in one transaction; `fail` rolls both back."""
    async with AsyncSession(engine) as session, session.begin():
        await session.execute(insert(notes).values(text=text))
        await add_to_outbox(session, tables.outbox, [note_event(topic, text)])
        if fail:
            raise RuntimeError("the use case failed after writing")


async def unsent(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                select(func.count())
                .select_from(tables.outbox)
                .where(tables.outbox.c.sent_at.is_(None))
            )
            or 0
        )


async def test_outbox_publishes_committed_events_only(
    engine: AsyncEngine, bus: EventBus, topic: str
) -> None:
    await write(engine, topic, "a-kept")
    with pytest.raises(RuntimeError):
        await write(engine, topic, "b-rolled-back", fail=True)
    relay = OutboxRelay(engine, tables.outbox, bus)
    assert await relay.publish_pending() == 1
    assert await relay.publish_pending() == 0
    subscription = await bus.subscribe(group=f"g-{uuid.uuid4().hex[:6]}", topics=[topic])
    try:
        records = await subscription.fetch(max_records=10, wait=5)
    finally:
        await subscription.close()
    assert [r.event.decode(StringValue).value for r in records if r.event] == ["a-kept"]


async def test_writes_succeed_while_the_broker_is_away_and_flow_later(
    engine: AsyncEngine, bus: EventBus, topic: str
) -> None:
    with socket_closed() as address:
        away = KafkaBus(address, client_id="away")
        relay = OutboxRelay(engine, tables.outbox, away)
        for i in range(5):
            await write(engine, topic, f"w{i}")
        await away.start()  # no broker needed to start: writes must not depend on it
        with pytest.raises(Exception):  # noqa: B017 - any transport failure will do
            await relay.publish_pending()
        await away.close()
        assert await unsent(engine) == 5
    back = OutboxRelay(engine, tables.outbox, bus)
    assert await back.publish_pending() == 5
    assert await unsent(engine) == 0


class socket_closed:
    """A loopback address where nothing listens (the port is reserved, then released)."""

    def __enter__(self) -> str:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return f"127.0.0.1:{sock.getsockname()[1]}"

    def __exit__(self, *_: object) -> None:
        return None


async def wait_until(check, wait: float = 20) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    deadline = time.monotonic() + wait
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_consumer_applies_once_retries_and_dead_letters(
    engine: AsyncEngine, bus: EventBus, topic: str
) -> None:
    applied: list[str] = []
    flaky = {"fail-once": 1}

    async def handler(event: Event, session: AsyncSession) -> None:
        text = event.decode(StringValue).value
        if text == "poison":
            raise ValueError("cannot apply")
        if flaky.get(text):
            flaky[text] -= 1
            raise ConnectionError("transient")
        await session.execute(insert(notes).values(text=f"applied-{text}"))
        applied.append(text)

    consumer = EventConsumer(
        bus,
        engine,
        tables.processed,
        group=f"g-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        handler=handler,
        max_attempts=3,
        first_backoff=0.01,
    )
    duplicate = note_event(topic, "twice")
    await bus.publish([duplicate, note_event(topic, "fail-once"), note_event(topic, "poison")])
    await bus.publish([duplicate])  # redelivery of the very same event
    await bus.publish_raw(topic, b"m", b"\x00not an event", [("ce_id", b"x")])
    await bus.publish([note_event(topic, "after")])
    await consumer.start()
    try:
        await wait_until(lambda: consumer.applied == 3 and consumer.dead_lettered == 2)
    finally:
        await consumer.stop()
    assert sorted(applied) == ["after", "fail-once", "twice"]
    assert consumer.skipped == 1, "the redelivered event was applied again"

    dead = await bus.subscribe(
        group=f"dlq-{uuid.uuid4().hex[:6]}", topics=[dead_letter_topic(topic)]
    )
    try:
        records = await dead.fetch(max_records=10, wait=5)
        if len(records) < 2:
            records += await dead.fetch(max_records=10, wait=5)
    finally:
        await dead.close()
    reasons = sorted(dict(r.headers)["x-consilium-dead-letter-reason"].decode() for r in records)
    assert len(reasons) == 2
    assert reasons[0].startswith("ValueError after 3 attempts")
    assert reasons[1].startswith("malformed")
