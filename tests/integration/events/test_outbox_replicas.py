"""Two replicas of a service on one PostgreSQL database and one Kafka: their relays publish each
outbox row once, in order per key, and both work; their consumers share the partitions of a
3-partition topic in one group and together apply every event exactly once. A relay that dies
after Kafka acknowledged and before its commit publishes again; the effect still applies once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from plumbing import db
from plumbing.events.bus import TopicSpec
from plumbing.events.envelope import Event
from plumbing.events.kafka import KafkaBus
from plumbing.events.outbox import OutboxRelay, add_to_outbox
from plumbing.events.runtime import EventRuntime, EventTables

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]

metadata = MetaData()
tables = EventTables.add_to(metadata)
#: What handlers do: one row per application (no unique key, so a double apply would show).
effects = Table(
    "effects",
    metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("event_key", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("replica", String(16), nullable=False),
)
KEYS = 50


def events(topic: str, count: int) -> list[Event]:
    """`count` events over `KEYS` keys; `data` is the write order, to check order per key."""
    now = datetime.now(UTC)
    return [
        Event(uuid.uuid4().hex, "test.Seq", "/test", topic, f"k{i % KEYS}", str(i).encode(), now)
        for i in range(count)
    ]


def apply_as(replica: str):  # type: ignore[no-untyped-def]
    async def handler(event: Event, session: AsyncSession) -> None:
        await session.execute(
            insert(effects).values(
                event_id=event.id, event_key=event.key, seq=int(event.data), replica=replica
            )
        )

    return handler


class SlowFirstBatch(KafkaBus):
    """A replica whose first batch is slow to reach the broker: meanwhile the other replica
    claims the next batches, which hold later events of the same keys (the overtaking case)."""

    slowed = False

    async def publish(self, events: Sequence[Event]) -> None:
        if not self.slowed:
            self.slowed = True
            await asyncio.sleep(1.0)  # the link's latency, not a wait for a condition
        await super().publish(events)


class DiesAfterFirstPublish(KafkaBus):
    """Kafka acknowledges the first batch, then the relay 'dies' before marking it sent."""

    died = False

    async def publish(self, events: Sequence[Event]) -> None:
        await super().publish(events)
        if not self.died:
            self.died = True
            raise ConnectionResetError("the relay's database connection dropped before commit")


@pytest.fixture
async def topic(kafka_bootstrap: str) -> str:
    name = f"test.replicas.{uuid.uuid4().hex[:10]}.v1"
    admin = KafkaBus(kafka_bootstrap, client_id="replicas-admin")
    await admin.create_topics([TopicSpec(name, partitions=3), TopicSpec(f"{name}.dlq", 1)])
    return name


@pytest.fixture
async def engines(fresh_postgres_url: str) -> AsyncIterator[list[AsyncEngine]]:
    """One engine per replica, on one database."""
    made = [db.create_engine(fresh_postgres_url) for _ in range(2)]
    async with made[0].begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield made
    for engine in made:
        await engine.dispose()


async def group_is_shared(bootstrap: str, group: str, members: int) -> None:
    """Bounded wait until `group` is Stable with `members` members (partitions assigned)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for _ in range(200):
            (response,) = await admin.describe_consumer_groups([group])
            _error, _id, state, *_rest, found = response.groups[0][:6]
            if state == "Stable" and len(found) == members:
                return
            await asyncio.sleep(0.1)
        pytest.fail(f"group {group} never became stable with {members} members")
    finally:
        await admin.close()


async def on_topic(bootstrap: str, topic: str, expected: int) -> list[tuple[int, str, str, int]]:
    """Every record of `topic`: (partition, key, event id, write order), in log order."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: list[tuple[int, str, str, int]] = []
    try:
        async with asyncio.timeout(15):
            while len(seen) < expected:
                for partition, batch in (await consumer.getmany(timeout_ms=500)).items():
                    seen += [
                        (partition.partition, m.key.decode(), dict(m.headers)["ce_id"].decode(),
                         int(m.value))
                        for m in batch
                    ]  # fmt: skip
        # anything beyond `expected` (a duplicate) would be here by now too
        for partition, batch in (await consumer.getmany(timeout_ms=1000)).items():
            seen += [(partition.partition, m.key.decode(), dict(m.headers)["ce_id"].decode(),
                      int(m.value)) for m in batch]  # fmt: skip
    finally:
        await consumer.stop()
    return seen


async def applied(engine: AsyncEngine, expected: int) -> list[tuple[str, str, int, str]]:
    """The effects, in application order, once `expected` of them exist (bounded wait)."""
    async with asyncio.timeout(20):
        while True:
            async with engine.connect() as conn:
                if await conn.scalar(select(func.count()).select_from(effects)) >= expected:
                    break
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a double apply would land now
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(effects.c.event_id, effects.c.event_key, effects.c.seq, effects.c.replica)
            .order_by(effects.c.n)
        )  # fmt: skip
        return [tuple(row) for row in rows]  # type: ignore[misc]


def in_order_per_key(rows: list[tuple[str, int]]) -> bool:
    """`rows` of (key, write order): each key's events in the order they were written."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for key, seq in rows:
        by_key[key].append(seq)
    return all(seqs == sorted(seqs) for seqs in by_key.values())


async def run_replicas(
    bootstrap: str, engines: list[AsyncEngine], topic: str, buses: list[KafkaBus]
) -> list[EventRuntime]:
    group = f"replicas-{uuid.uuid4().hex[:8]}"
    runtimes = []
    for name, engine, bus in zip(("a", "b"), engines, buses, strict=True):
        runtime = EventRuntime(bus, engine, tables, relay_batch_size=20)
        runtime.consume(group=group, topics=[topic], handler=apply_as(name))
        await runtime.start()
        runtimes.append(runtime)
    await group_is_shared(bootstrap, group, members=len(runtimes))
    return runtimes


async def test_two_replicas_publish_each_row_once_and_apply_each_event_once(
    kafka_bootstrap: str, engines: list[AsyncEngine], topic: str
) -> None:
    buses = [
        SlowFirstBatch(kafka_bootstrap, client_id="replica-a"),
        KafkaBus(kafka_bootstrap, client_id="replica-b"),
    ]
    runtimes = await run_replicas(kafka_bootstrap, engines, topic, buses)
    written = events(topic, 300)
    try:
        async with AsyncSession(engines[0]) as session, session.begin():
            await add_to_outbox(session, tables.outbox, written)
        for runtime in runtimes:
            runtime.relay.notify()
        effects_seen = await applied(engines[0], len(written))
        records = await on_topic(kafka_bootstrap, topic, len(written))
    finally:
        for runtime in runtimes:
            await runtime.stop()

    ids = [event.id for event in written]
    assert Counter(record[2] for record in records) == Counter(ids)  # each row once on Kafka
    assert in_order_per_key([(key, seq) for _p, key, _id, seq in records])
    assert all(runtime.relay.published > 0 for runtime in runtimes)  # both relays worked
    assert sum(runtime.relay.published for runtime in runtimes) == len(written)

    assert Counter(row[0] for row in effects_seen) == Counter(ids)  # each applied once
    assert {row[3] for row in effects_seen} == {"a", "b"}  # both consumers applied some
    assert len({record[0] for record in records}) == 3
    assert in_order_per_key([(key, seq) for _id, key, seq, _r in effects_seen])


async def test_a_relay_dying_before_its_commit_republishes_but_nothing_applies_twice(
    kafka_bootstrap: str, engines: list[AsyncEngine], topic: str
) -> None:
    buses = [
        DiesAfterFirstPublish(kafka_bootstrap, client_id="replica-a"),
        KafkaBus(kafka_bootstrap, client_id="replica-b"),
    ]
    runtimes = await run_replicas(kafka_bootstrap, engines, topic, buses)
    written = events(topic, 60)
    try:
        async with AsyncSession(engines[0]) as session, session.begin():
            await add_to_outbox(session, tables.outbox, written)
        runtimes[0].relay.notify()  # replica a claims first and dies after publishing
        effects_seen = await applied(engines[0], len(written))
        records = await on_topic(kafka_bootstrap, topic, len(written) + 1)
    finally:
        for runtime in runtimes:
            await runtime.stop()

    on_kafka = Counter(record[2] for record in records)
    assert set(on_kafka) == {event.id for event in written}
    assert max(on_kafka.values()) == 2  # at least once: the dead relay's batch went twice
    assert Counter(row[0] for row in effects_seen) == Counter(e.id for e in written)


class Recorder:
    """A bus that only records what it is asked to publish (the purge needs no broker)."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def publish(self, events: Sequence[Event]) -> None:
        self.ids += [event.id for event in events]


async def test_replicas_purge_sent_rows_concurrently_without_deadlock(
    engines: list[AsyncEngine],
) -> None:
    written = events("test.purge.v1", 200)
    async with AsyncSession(engines[0]) as session, session.begin():
        await add_to_outbox(session, tables.outbox, written)
    recorders = [Recorder(), Recorder()]
    relays = [
        OutboxRelay(engine, tables.outbox, bus, batch_size=10, keep_sent=timedelta(0))  # type: ignore[arg-type]
        for engine, bus in zip(engines, recorders, strict=True)
    ]

    async def drain(relay: OutboxRelay) -> None:
        while await relay.publish_pending() or await relay.publish_pending():
            pass

    await asyncio.gather(*(drain(relay) for relay in relays))
    assert Counter(recorders[0].ids + recorders[1].ids) == Counter(e.id for e in written)
    async with engines[0].connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.outbox)) == 0
