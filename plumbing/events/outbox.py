"""Transactional outbox: events are rows written with the state change; a relay publishes them.

Writes never wait for the broker. While it is away, events wait in the outbox; when it is
back the relay sends them in the order they were written (so in order per key), marks them
sent, and carries on. A batch that fails is sent again whole: delivery is at least once and
consumers drop repeats by event id.

Replicas (PostgreSQL): every replica of a service runs a relay on the same outbox. A relay
claims a batch with `SELECT ... FOR UPDATE SKIP LOCKED`, publishes it while holding the row
locks and marks it sent in that same transaction, so no two relays ever hold the same row.
It leaves out a row whose key has an earlier unsent row it does not hold (another replica's
claim), so replicas never reorder one key. The guarantee: each row is published once, unless a
relay dies (or its commit fails) after Kafka acknowledged the batch and before the commit;
then the rows are unlocked, still unsent, and published again: at least once to Kafka, and
consumers apply each event once (`processed_events`, in the effect's own transaction).

Waking: a transaction that wrote to an outbox wakes this process's relay of it as it commits,
so the relay's poll is only for writes of other processes (a CLI, another replica); it polls
every `idle_interval` seconds after sending and slows down, doubling, to `max_idle_interval`
while the outbox stays empty: an idle service does not query it five times a second.

SQLite (dev, one process per database file): one relay per database. It reads, publishes and
marks in separate transactions, because holding a SQLite transaction across the publish would
make its commit fail whenever the service wrote meanwhile; two processes would send twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, Table, delete, event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from plumbing.events.bus import EventBus
from plumbing.events.envelope import Event

log = logging.getLogger("consilium.events.outbox")
#: Seconds between two purges of sent rows: a purge per batch would be a transaction per batch.
_PURGE_EVERY = 1.0
#: Where a session notes the outboxes it wrote to, for its commit to wake their relays.
_WRITTEN = "consilium.outbox.written"
#: The running relays of each outbox table in this process.
_relays: dict[Table, set[OutboxRelay]] = {}


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    """After any session's commit: the relays of the outboxes it wrote to look now, not at
    their next poll. Listened for once, on every Session: most commits wrote no outbox, and
    for those it is one dictionary lookup. Not cleared on rollback (a savepoint's would clear
    a lane's earlier writes too): a rolled-back write costs its relay one needless look at
    the next commit, no more."""
    for table in session.info.pop(_WRITTEN, ()):
        for relay in list(_relays.get(table, ())):
            relay.notify()


async def add_to_outbox(session: AsyncSession, table: Table, events: Sequence[Event]) -> None:
    """Queues `events` inside the caller's transaction: they exist only if it commits, and
    when it does, this process's relay of `table` is woken (callers need not notify it)."""
    if not events:
        return
    session.sync_session.info.setdefault(_WRITTEN, set()).add(table)
    await session.execute(
        insert(table),
        [
            {
                "event_id": e.id,
                "topic": e.topic,
                "event_key": e.key,
                "event_type": e.type,
                "source": e.source,
                "data": e.data,
                "traceparent": e.traceparent,
                "occurred_at": e.time,
            }
            for e in events
        ],
    )


def _event(row: object) -> Event:
    occurred = row.occurred_at  # type: ignore[attr-defined]
    return Event(
        id=row.event_id,  # type: ignore[attr-defined]
        type=row.event_type,  # type: ignore[attr-defined]
        source=row.source,  # type: ignore[attr-defined]
        topic=row.topic,  # type: ignore[attr-defined]
        key=row.event_key,  # type: ignore[attr-defined]
        data=row.data,  # type: ignore[attr-defined]
        time=occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC),
        traceparent=row.traceparent,  # type: ignore[attr-defined]
    )


async def _not_overtaking(
    conn: AsyncConnection, table: Table, rows: Sequence[Row[Any]]
) -> list[Row[Any]]:
    """The claimed rows no unsent row of the same key precedes outside this claim (held by
    another replica, or committed late): sending those now could overtake it."""
    claimed = [row.position for row in rows]
    keys = {(row.topic, row.event_key) for row in rows}
    held = await conn.execute(
        select(table.c.topic, table.c.event_key, func.min(table.c.position))
        .where(
            table.c.sent_at.is_(None),
            table.c.position < max(claimed),
            table.c.position.not_in(claimed),
        )
        .group_by(table.c.topic, table.c.event_key)
    )
    first_held = {(topic, key): first for topic, key, first in held if (topic, key) in keys}
    return [
        row
        for row in rows
        if (row.topic, row.event_key) not in first_held
        or row.position < first_held[(row.topic, row.event_key)]
    ]


class OutboxRelay:
    """Publishes unsent outbox rows in write order, with backoff while the bus is away and
    a slower poll while there is nothing to send."""

    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        bus: EventBus,
        *,
        batch_size: int = 200,
        idle_interval: float = 0.2,
        max_idle_interval: float = 2.0,
        first_backoff: float = 0.1,
        max_backoff: float = 5.0,
        keep_sent: timedelta = timedelta(hours=1),
    ) -> None:
        self._engine = engine
        self._table = table
        self._bus = bus
        self._batch_size = batch_size
        self._idle_interval = idle_interval
        self._max_idle_interval = max(max_idle_interval, idle_interval)
        self._first_backoff = first_backoff
        self._max_backoff = max(max_backoff, first_backoff)
        self._keep_sent = keep_sent
        self._wake = asyncio.Event()
        self._stopping = False
        self._stop_asked = asyncio.Event()  # ends a backoff (a write's wake-up does not)
        self._task: asyncio.Task[None] | None = None
        #: Row locks on PostgreSQL; SQLite has one writer, so one relay per database.
        self._claims_rows = engine.dialect.name == "postgresql"
        self._purged = float("-inf")  # monotonic time of the last purge
        self._unpurged = False  # whether rows were sent since
        self.failures = 0
        #: Events this relay published (several replicas share the work on PostgreSQL).
        self.published = 0

    def notify(self) -> None:
        """Something was written: look now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        _relays.setdefault(self._table, set()).add(self)
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Sends what it can within one more attempt, then stops."""
        self._stopping = True
        self._stop_asked.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        relays = _relays.get(self._table)
        if relays is not None:
            relays.discard(self)
            if not relays:
                del _relays[self._table]

    async def pending(self) -> int:
        """How many events wait unsent (the outbox depth the metrics sample)."""
        table = self._table
        async with self._engine.connect() as conn:
            count = await conn.scalar(
                select(func.count()).select_from(table).where(table.c.sent_at.is_(None))
            )
        return int(count or 0)

    async def publish_pending(self) -> int:
        """One pass: publishes up to a batch of unsent events; returns how many were sent."""
        if self._claims_rows:
            sent = await self._publish_claimed()
        else:
            sent = await self._publish_single_writer()
        if sent:
            self.published += sent
            self._unpurged = True
        # Under load once a second; when caught up (a pass with nothing to send), at once.
        now = time.monotonic()
        if self._unpurged and (not sent or now - self._purged >= _PURGE_EVERY):
            self._purged, self._unpurged = now, False
            await self._purge_sent()
        return sent

    async def _purge_sent(self) -> None:
        """Deletes rows sent longer ago than `keep_sent`. Replicas purge concurrently: on
        PostgreSQL each takes only rows no other holds, so two deletes never deadlock."""
        table = self._table
        old = select(table.c.position).where(table.c.sent_at < datetime.now(UTC) - self._keep_sent)
        if self._claims_rows:
            old = old.with_for_update(skip_locked=True)
        async with self._engine.begin() as conn:
            await conn.execute(delete(table).where(table.c.position.in_(old.scalar_subquery())))

    def _unsent(self) -> Select[Any]:
        table = self._table
        return (
            select(table)
            .where(table.c.sent_at.is_(None))
            .order_by(table.c.position)
            .limit(self._batch_size)
        )

    async def _mark_sent(self, conn: AsyncConnection, rows: Sequence[Row[Any]]) -> None:
        await conn.execute(
            update(self._table)
            .where(self._table.c.position.in_([row.position for row in rows]))
            .values(sent_at=datetime.now(UTC))
        )

    async def _publish_claimed(self) -> int:
        """Claim, publish, mark sent: one transaction holding the rows' locks throughout."""
        async with self._engine.begin() as conn:
            claimed = (await conn.execute(self._unsent().with_for_update(skip_locked=True))).all()
            if not claimed:
                return 0
            rows = await _not_overtaking(conn, self._table, claimed)
            if not rows:
                return 0
            await self._bus.publish([_event(row) for row in rows])
            await self._mark_sent(conn, rows)
        return len(rows)

    async def _publish_single_writer(self) -> int:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(self._unsent())).all()
        if not rows:
            return 0
        await self._bus.publish([_event(row) for row in rows])
        async with self._engine.begin() as conn:
            await self._mark_sent(conn, rows)
        return len(rows)

    async def _run(self) -> None:
        backoff = self._first_backoff
        idle = self._idle_interval / 2  # doubled by the first pass that finds nothing
        while True:
            # Cleared before the pass, not after: a write notified during it is looked at next.
            self._wake.clear()
            # Only a pass begun after stop() was asked counts as its last attempt: one under
            # way may have looked before another process's row was committed.
            last_attempt = self._stopping
            try:
                sent = await self.publish_pending()
                backoff = self._first_backoff
            except Exception:
                self.failures += 1
                if last_attempt:
                    log.warning("outbox relay: publishing failed; stopping", exc_info=True)
                    return
                if self._stopping:  # asked during this pass: its last attempt comes now
                    log.warning("outbox relay: publishing failed; one last try", exc_info=True)
                    continue
                log.warning(
                    "outbox relay: publishing failed; retrying in %.1fs", backoff, exc_info=True
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_asked.wait(), backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if last_attempt and sent == 0:
                return
            if sent == self._batch_size or self._stopping:
                continue  # more waiting, or a last pass to make before stopping: no pause
            # Writes of this process wake the relay; the poll is for the others' (a CLI, another
            # replica), so it slows down while the outbox stays empty, up to the longest interval.
            idle = self._idle_interval if sent else min(idle * 2, self._max_idle_interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), idle)
