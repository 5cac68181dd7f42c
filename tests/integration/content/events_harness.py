"""Test helpers for content's events: a second bus client to publish and read, and waiting."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from content_harness import ContentClient
from google.protobuf.message import Message
from sqlalchemy import func, select

from plumbing.events.bus import EventBus, Record
from plumbing.events.consumer import EventConsumer
from plumbing.events.envelope import Event, new_event
from plumbing.events.outbox import OutboxRelay
from plumbing.events.topics import ANONYMITY_ALIASES

#: Kafka needs a few seconds for a consumer group to form; the embedded bus does not.
DEADLINE = 45.0


@dataclass
class EventsClient:
    """A content server, its (unstarted) event runtime, and a test-side bus client."""

    content: ContentClient
    bus: EventBus
    started: str = ""

    @property
    def relay(self) -> OutboxRelay:
        return self.content.instance.events.relay

    @property
    def consumer(self) -> EventConsumer:
        (consumer,) = self.content.instance.events.consumers
        return consumer

    async def start_bus_only(self) -> None:
        """Only the runtime's bus: the test drives the relay with `publish_pending()`, so no
        background relay can publish the same rows concurrently."""
        await self.content.instance.events.bus.start()
        self.started = "bus"

    async def start_all(self) -> None:
        """Bus, relay and the alias consumer, as `serve()` starts them."""
        await self.content.instance.events.start()
        self.started = "all"

    async def stop(self) -> None:
        if self.started == "all":
            await self.content.instance.events.stop()
        elif self.started == "bus":
            await self.content.instance.events.bus.close()
        self.started = ""

    async def outbox_sent(self) -> None:
        """Waits until the relay has sent every queued event."""
        outbox = self.content.instance.events.tables.outbox

        async def empty() -> bool:
            async with self.content.instance.engine.connect() as conn:
                unsent = await conn.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
                )
            return unsent == 0

        await eventually(empty, "the relay sends the outbox")

    async def publish_alias_event(self, message: Message, alias_id: str) -> Event:
        """`message` as anonymity would publish it: keyed by the alias id."""
        event = new_event(
            message, topic=ANONYMITY_ALIASES, key=alias_id, source="/consilium/anonymity"
        )
        await self.bus.publish([event])
        return event

    async def read(
        self, topic: str, until: Callable[[list[Record]], bool], *, wait: float = DEADLINE
    ) -> list[Record]:
        """Every record of `topic` from the beginning (a fresh group), until `until` holds,
        and then whatever else arrives within one more fetch (so duplicates would show)."""
        subscription = await self.bus.subscribe(
            group=f"content-test-{uuid.uuid4().hex[:8]}", topics=[topic]
        )
        records: list[Record] = []
        try:
            deadline = time.monotonic() + wait
            while not until(records):
                assert time.monotonic() < deadline, f"{topic}: gave up after {len(records)} records"
                records.extend(await subscription.fetch(max_records=500, wait=0.5))
            records.extend(await subscription.fetch(max_records=500, wait=1.0))
        finally:
            await subscription.close()
        return records


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, *, wait: float = DEADLINE
) -> None:
    """Waits until `check()` holds; fails naming `what` after `wait` seconds."""
    deadline = time.monotonic() + wait
    while not await check():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        await asyncio.sleep(0.05)
