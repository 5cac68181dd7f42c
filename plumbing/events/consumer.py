"""Idempotent consumers: apply each event once, retry with backoff, dead-letter poison messages.

Per batch: records are grouped by key; keys are processed concurrently (bounded), each key's
records in order. An event is applied in one database transaction together with its id in
the processed-events table, so a redelivered event is recognised and skipped. On PostgreSQL
the keys of a batch are spread over at most `concurrency` lanes and each lane's events share
one transaction, each event in a savepoint of its own: at 500 events/s a transaction per event
costs more round trips than the consumer has time for. An event whose handler fails is rolled
back to its savepoint, the events before it commit, and it and the rest of its lane go the
one-transaction-per-event way (retries, dead letters). Offsets are committed only after the
whole batch is done. A record that is not a valid event, or whose
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
from collections.abc import Awaitable, Callable, Iterator, Sequence
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
#: Events a lane should get at least before the batch is spread over another lane.
_LANE_EVENTS = 4

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
        self._concurrency = concurrency
        self._limit = asyncio.Semaphore(concurrency)
        #: Savepoints are reliable on PostgreSQL; SQLite (dev) applies one event per transaction.
        self._lanes = engine.dialect.name == "postgresql"
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
        groups = list(by_key.values())
        if self._lanes and len(groups) > 1:
            # Whole keys per lane, in record order: a key's events stay in order. A lane of
            # one event costs more than a transaction of its own, so a small batch gets few.
            count = max(1, min(self._concurrency, len(groups), len(records) // _LANE_EVENTS))
            lanes: list[list[Record]] = [[] for _ in range(count)]
            for number, group in enumerate(groups):
                lanes[number % len(lanes)].extend(group)
            groups = lanes

        async def one_lane(batch: list[Record]) -> None:
            async with self._limit:
                done, failed = 0, False
                if self._lanes and len(batch) > 1:
                    done, failed = await self._try_lane(batch)
                for number, record in enumerate(batch[done:]):
                    await self._process(record, failed_once=failed and number == 0)

        await asyncio.gather(*(one_lane(batch) for batch in groups))

    async def _try_lane(self, batch: Sequence[Record]) -> tuple[int, bool]:
        """`_apply_lane`, or (0, False) when the transaction itself failed (e.g. the database
        went away): then the whole lane goes the one-by-one way, which waits for it."""
        try:
            return await self._apply_lane(batch)
        except Exception:
            log.info("%s: a lane's transaction failed; one event at a time", self.group)
            return 0, False

    async def _apply_lane(self, batch: Sequence[Record]) -> tuple[int, bool]:
        """Applies the lane's events in one transaction, each in a savepoint, up to the first
        that is malformed or whose handler fails. Returns how many were done (applied or
        skipped), and whether the next one's handler failed (which counts as its first
        attempt, unless the failure was an outage)."""
        table = self._processed
        applied: list[str] = []
        done = 0
        failed = False
        async with AsyncSession(self._engine) as session, session.begin():
            ids = [r.event.id for r in batch if r.event is not None]
            seen = set(
                await session.scalars(
                    select(table.c.event_id).where(
                        table.c.consumer_group == self.group, table.c.event_id.in_(ids)
                    )
                )
            )
            for record in batch:
                event = record.event
                if event is None:
                    break  # the one-by-one way dead-letters it
                if event.id not in seen:
                    try:
                        async with session.begin_nested():
                            with self._span(event):
                                await self._call_handler(event, session)
                    except Exception as exc:
                        failed = not is_outage(exc)
                        break
                    seen.add(event.id)
                    applied.append(event.id)
                done += 1
            if applied:
                now = datetime.now(UTC)
                await session.execute(
                    insert(table),
                    [
                        {"consumer_group": self.group, "event_id": i, "processed_at": now}
                        for i in applied
                    ],
                )
        self.applied += len(applied)
        self.skipped += done - len(applied)
        return done, failed

    @contextlib.contextmanager
    def _span(self, event: Event) -> Iterator[None]:
        """The consume span, in the trace the event carries."""
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
            yield

    async def _call_handler(self, event: Event, session: AsyncSession) -> None:
        if self.person_keyed:
            with fresh_trace_per_event():
                await self._handler(event, session)
        else:
            await self._handler(event, session)

    async def _process(self, record: Record, *, failed_once: bool = False) -> None:
        """One event in a transaction of its own; `failed_once`: its handler failed once
        already (in a lane), which counts as its first attempt."""
        event = record.event
        if event is None:
            await self._dead_letter(record, f"malformed: {record.error}", label="malformed")
            return
        with self._span(event):
            delay = self._first_backoff
            attempt = 1 if failed_once else 0
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
            await self._call_handler(event, session)
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
