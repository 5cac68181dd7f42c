"""Idempotent consumers: apply each event once, retry with backoff, dead-letter poison messages.

Per batch: records are grouped by key; keys are processed concurrently (bounded), each key's
records in order. An event is applied in one database transaction together with its id in
the processed-events table, so a redelivered event is recognised and skipped. Offsets are
committed only after the whole batch is done. A record that is not a valid event, or whose
handler keeps failing, goes to `<topic>.dlq` with the error, and the consumer moves on.

A consumer of person-keyed events (keyed by user id, e.g. identity's physician events) is
declared so (`person_keyed=True`, or a handler with `person_keyed = True`): it still handles
each event in the event's trace, but every event its handler produces starts a new trace of
its own (`envelope.fresh_trace_per_event`), so no trace id joins a person to their aliases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from opentelemetry import propagate, trace
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from plumbing.events.bus import EventBus, Record, Subscription
from plumbing.events.envelope import Event, fresh_trace_per_event
from plumbing.metrics.instruments import DEAD_LETTER_REASONS, DEAD_LETTERS
from plumbing.outages import is_outage

log = logging.getLogger("consilium.events.consumer")
_tracer = trace.get_tracer("consilium.events")
#: The longest pause between two tries of an event while its database is away.
_OUTAGE_BACKOFF = 2.0

Handler = Callable[[Event, AsyncSession], Awaitable[None]]


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


class EventConsumer:
    """Runs `handler` for every event of `topics` as consumer group `group`."""

    def __init__(
        self,
        bus: EventBus,
        engine: AsyncEngine,
        processed: Table,
        *,
        group: str,
        topics: Sequence[str],
        handler: Handler,
        concurrency: int = 8,
        max_attempts: int = 5,
        first_backoff: float = 0.05,
        fetch_timeout: float = 0.5,
        batch_size: int = 100,
        person_keyed: bool | None = None,
    ) -> None:
        self._bus = bus
        self._engine = engine
        self._processed = processed
        self.group = group
        self._topics = tuple(topics)
        self._handler = handler
        #: Events produced while handling these events start fresh traces (the privacy line).
        self.person_keyed = bool(
            getattr(handler, "person_keyed", False) if person_keyed is None else person_keyed
        )
        self._limit = asyncio.Semaphore(concurrency)
        self._max_attempts = max_attempts
        self._first_backoff = first_backoff
        self._fetch_timeout = fetch_timeout
        self._batch_size = batch_size
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self.applied = 0
        self.skipped = 0
        self.dead_lettered = 0
        # Every series at 0 from the start: `increase()` cannot see a counter's first step if
        # the series is born at 1, and "any dead letter" alerts on exactly that step.
        for topic in self._topics:
            for reason in DEAD_LETTER_REASONS:
                DEAD_LETTERS.labels(group, topic, reason)

    async def start(self) -> None:
        """Joins the group in the background: a broker that is away delays it, never fails it."""
        self._task = asyncio.create_task(self._join_and_run(), name=f"consumer-{self.group}")

    async def _join_and_run(self) -> None:
        delay = 0.2
        while not self._stopping.is_set():
            try:
                subscription = await self._bus.subscribe(group=self.group, topics=self._topics)
            except Exception:
                log.warning(
                    "%s: cannot join the group yet; retrying in %.1fs",
                    self.group,
                    delay,
                    exc_info=True,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                delay = min(delay * 2, 5.0)
                continue
            self._subscription = subscription
            try:
                await self._run(subscription)
            finally:
                self._subscription = None
            return

    async def lag(self) -> dict[tuple[str, int], int]:
        """Records not yet processed per (topic, partition); empty until the group is joined."""
        subscription = self._subscription
        return await subscription.lag() if subscription is not None else {}

    async def stop(self) -> None:
        """Finishes the batch in hand, commits it, and leaves the group."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, subscription: Subscription) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    records = await subscription.fetch(
                        max_records=self._batch_size, wait=self._fetch_timeout
                    )
                except Exception:
                    log.warning("%s: fetching failed; retrying", self.group, exc_info=True)
                    await asyncio.sleep(1)
                    continue
                if not records:
                    continue
                await self._process_until_done(records)
                await subscription.commit(records)
        finally:
            await subscription.close()

    async def _process_until_done(self, records: Sequence[Record]) -> None:
        """Processes a batch; if something beyond one event fails (the database, the dead-letter
        write), tries the whole batch again: applied events are skipped by their ids."""
        delay = 0.2
        while True:
            try:
                await self._process_batch(records)
                return
            except Exception:
                log.error(
                    "%s: a batch failed; retrying it in %.1fs", self.group, delay, exc_info=True
                )
                if self._stopping.is_set():
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _process_batch(self, records: Sequence[Record]) -> None:
        by_key: dict[tuple[str, bytes | None], list[Record]] = defaultdict(list)
        for record in records:
            by_key[(record.topic, record.key)].append(record)

        async def one_key(batch: list[Record]) -> None:
            async with self._limit:
                for record in batch:
                    await self._process(record)

        await asyncio.gather(*(one_key(batch) for batch in by_key.values()))

    async def _process(self, record: Record) -> None:
        event = record.event
        if event is None:
            await self._dead_letter(record, f"malformed: {record.error}", label="malformed")
            return
        context = propagate.extract({"traceparent": event.traceparent or ""})
        with _tracer.start_as_current_span(
            f"consume {event.topic}",
            context=context,
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.destination.name": event.topic,
                "messaging.consumer.group.name": self.group,
                "messaging.message.id": event.id,
            },
        ):
            delay = self._first_backoff
            attempt = 0
            while True:
                try:
                    applied = await self._apply(event)
                except Exception as exc:
                    if is_outage(exc):
                        # The database (or broker) is away: the event is not poison. Wait
                        # for it without counting attempts; when stopping, leave the batch
                        # uncommitted so that it is delivered again.
                        if self._stopping.is_set():
                            raise
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, _OUTAGE_BACKOFF)
                        continue
                    attempt += 1
                    if attempt >= self._max_attempts:
                        log.error(
                            "%s: %s failed %d times; dead-lettering",
                            self.group,
                            event.type,
                            attempt,
                            exc_info=True,
                        )
                        await self._dead_letter(
                            record,
                            f"{type(exc).__name__} after {attempt} attempts",
                            label="handler_failed",
                        )
                        return
                    await asyncio.sleep(delay)
                    delay *= 2
                    continue
                if applied:
                    self.applied += 1
                else:
                    self.skipped += 1
                return

    async def _apply(self, event: Event) -> bool:
        """Applies `event` once; False when this group had already applied it."""
        table = self._processed
        async with AsyncSession(self._engine) as session, session.begin():
            seen = await session.scalar(
                select(table.c.event_id).where(
                    table.c.consumer_group == self.group, table.c.event_id == event.id
                )
            )
            if seen is not None:
                return False
            if self.person_keyed:
                with fresh_trace_per_event():
                    await self._handler(event, session)
            else:
                await self._handler(event, session)
            await session.execute(
                insert(table).values(
                    consumer_group=self.group, event_id=event.id, processed_at=datetime.now(UTC)
                )
            )
        return True

    async def _dead_letter(self, record: Record, reason: str, *, label: str) -> None:
        """`reason` (which may quote an error) goes in a header; `label`, one of
        DEAD_LETTER_REASONS, is all the metrics see of it."""
        headers = [
            *record.headers,
            ("x-consilium-dead-letter-reason", reason.encode()),
            ("x-consilium-consumer-group", self.group.encode()),
        ]
        await self._bus.publish_raw(
            dead_letter_topic(record.topic), record.key, record.value, headers
        )
        self.dead_lettered += 1
        DEAD_LETTERS.labels(self.group, record.topic, label).inc()
