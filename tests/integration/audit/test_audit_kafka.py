"""The ledger fed by a real Kafka broker: events land once, in chain order, and verify."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from audit_harness import Ledger, envelope

pytestmark = pytest.mark.kafka


async def test_events_from_kafka_are_stored_once_and_verify(kafka_ledger: Ledger) -> None:
    # A producer name of its own: the broker's topic may hold other tests' events too.
    producer = kafka_ledger.producer(f"anonymity-{uuid.uuid4().hex[:8]}")
    events = [producer.next() for _ in range(6)]
    records = [envelope(e) for e in events]
    await kafka_ledger.bus.publish(records)
    await kafka_ledger.bus.publish(records[:3])  # redelivered

    async with asyncio.timeout(30):
        while len((await kafka_ledger.query(producer=producer.name)).events) < 6:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # let the duplicates arrive too

    stored = (await kafka_ledger.query(producer=producer.name)).events
    assert [e.event_id for e in stored] == [e.event_id for e in events]
    (report,) = (await kafka_ledger.verify(producer.name)).reports
    assert report.ok
    assert report.event_count == 6
