"""Bus semantics, identical for the embedded bus and Kafka: order per key, groups, offsets."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from google.protobuf.wrappers_pb2 import StringValue

from plumbing.events.bus import EventBus, Record, Subscription, TopicSpec
from plumbing.events.envelope import Event, new_event


def event(topic: str, key: str, text: str) -> Event:
    return new_event(StringValue(value=text), topic=topic, key=key, source="/consilium/test")


async def drain(subscription: Subscription, count: int, *, wait: float = 20) -> list[Record]:
    """Fetches until `count` records arrived (bounded by `wait` seconds overall)."""
    import time

    records: list[Record] = []
    deadline = time.monotonic() + wait
    while len(records) < count and time.monotonic() < deadline:
        records.extend(await subscription.fetch(max_records=100, wait=0.5))
    return records


async def test_order_per_key_and_envelope_round_trip(bus: EventBus, topic: str) -> None:
    sent = [event(topic, f"key-{i % 4}", f"message {i}") for i in range(40)]
    await bus.publish(sent)
    subscription = await bus.subscribe(group=f"g-{uuid.uuid4().hex[:6]}", topics=[topic])
    try:
        records = await drain(subscription, 40)
    finally:
        await subscription.close()
    assert len(records) == 40
    for key in {e.key for e in sent}:
        got = [r.event.decode(StringValue).value for r in records if r.event and r.event.key == key]
        assert got == [e.decode(StringValue).value for e in sent if e.key == key]
    first = next(r for r in records if r.event and r.event.id == sent[0].id)
    assert first.event == sent[0]
    assert dict(first.headers)["ce_type"] == b"google.protobuf.StringValue"
    assert dict(first.headers)["content-type"] == b"application/protobuf"


async def test_committed_offsets_survive_a_restart_and_uncommitted_come_again(
    bus_factory: Callable[[], EventBus], bus: EventBus, topic: str
) -> None:
    group = f"g-{uuid.uuid4().hex[:6]}"
    await bus.publish([event(topic, "k", f"m{i}") for i in range(6)])
    first = await bus.subscribe(group=group, topics=[topic])
    records = await drain(first, 6)
    await first.commit(records[:3])  # processed three, then "crashed"
    await first.close()

    restarted_bus = bus_factory()  # a new process: new client, same broker or file
    await restarted_bus.start()
    try:
        second = await restarted_bus.subscribe(group=group, topics=[topic])
        again = await drain(second, 3)
        await second.close()
    finally:
        await restarted_bus.close()
    values = sorted(r.event.decode(StringValue).value for r in again if r.event)
    assert values == sorted(r.event.decode(StringValue).value for r in records[3:] if r.event)


async def test_every_group_sees_every_event(bus: EventBus, topic: str) -> None:
    await bus.publish([event(topic, f"k{i}", f"m{i}") for i in range(5)])
    for _ in range(2):
        subscription = await bus.subscribe(group=f"g-{uuid.uuid4().hex[:6]}", topics=[topic])
        try:
            assert len(await drain(subscription, 5)) == 5
        finally:
            await subscription.close()


async def test_creating_topics_twice_creates_them_once(bus: EventBus) -> None:
    name = f"test.{uuid.uuid4().hex[:10]}.v1"
    assert await bus.create_topics([TopicSpec(name, partitions=2)]) == [name]
    assert await bus.create_topics([TopicSpec(name, partitions=2)]) == []


async def test_concurrent_publishes_on_one_client_all_land(bus: EventBus, topic: str) -> None:
    """The relay and a consumer's dead letters share a client; their writes must not clash."""
    import asyncio

    await asyncio.gather(
        *(bus.publish([event(topic, f"k{i}", f"m{i}")]) for i in range(10)),
        *(bus.publish_raw(topic, b"raw", b"not an event", [("x", b"y")]) for _ in range(10)),
    )
    subscription = await bus.subscribe(group=f"g-{uuid.uuid4().hex[:6]}", topics=[topic])
    try:
        assert len(await drain(subscription, 20)) == 20
    finally:
        await subscription.close()
