"""The embedded event bus for `make dev`: Kafka's semantics in one SQLite file, no broker.

Same contract as Kafka: topics with partitions (a key always maps to the same partition, so
order per key holds), append-only logs, consumer groups whose committed offsets survive a
restart, at-least-once delivery. Several processes share one file (SQLite WAL). One member
per group: dev runs one replica of everything, so there is no rebalancing to imitate.

Retention, as Kafka's `retention.ms`: records older than their topic's retention (or the
bus-wide override) are deleted at start and then as the bus publishes, at most once a minute.
Nothing is kept forever, so an event cannot outlive the erasure of the person it is about
by more than the retention. `log_ends` remembers each emptied partition's next offset, so
offsets never move back and committed groups neither re-read nor miss records.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import aiosqlite

from plumbing.events.bus import Record, Subscription, TopicSpec
from plumbing.events.changes import BusChanges, announce_commit
from plumbing.events.envelope import Event, MalformedEvent, from_record

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL,
       retention_ms INTEGER NOT NULL, cleanup_policy TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS records (topic TEXT NOT NULL, partition INTEGER NOT NULL,
       "offset" INTEGER NOT NULL, key BLOB, value BLOB, headers TEXT NOT NULL,
       appended_at REAL NOT NULL, PRIMARY KEY (topic, partition, "offset"))""",
    """CREATE TABLE IF NOT EXISTS group_offsets (grp TEXT NOT NULL, topic TEXT NOT NULL,
       partition INTEGER NOT NULL, committed INTEGER NOT NULL,
       PRIMARY KEY (grp, topic, partition))""",
    """CREATE TABLE IF NOT EXISTS log_ends (topic TEXT NOT NULL, partition INTEGER NOT NULL,
       next_offset INTEGER NOT NULL, PRIMARY KEY (topic, partition))""",
)
#: Seconds between two retention sweeps of a running bus (Kafka checks every 5 minutes).
_SWEEP_INTERVAL = 60.0
#: The next offset of a partition: after its newest record, or after the newest one deleted.
_NEXT_OFFSET = (
    'SELECT MAX(COALESCE((SELECT MAX("offset") + 1 FROM records WHERE topic = ?1 AND '
    "partition = ?2), 0), COALESCE((SELECT next_offset FROM log_ends WHERE topic = ?1 AND "
    "partition = ?2), 0))"
)


class UnknownTopic(Exception):
    """Publishing to a topic nobody created (run `consilium topics create`)."""


def partition_for(key: str, partitions: int) -> int:
    """A stable key -> partition mapping (crc32), so one key's events stay in order."""
    return zlib.crc32(key.encode()) % partitions


async def _connect(path: Path) -> aiosqlite.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(path, timeout=30, isolation_level=None)
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA busy_timeout=30000")
    for statement in _SCHEMA:
        await conn.execute(statement)
    return conn


class EmbeddedSubscription:
    """A group member reading from the file; its position starts at the committed offsets."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        group: str,
        partitions: dict[tuple[str, int], int],
        changes: BusChanges,
    ) -> None:
        self._conn = conn
        self._group = group
        self._position = partitions  # next offset to read, per (topic, partition)
        self._committed = dict(partitions)
        self._changes = changes
        #: The file's generation when a read last found nothing: until it grows, nothing new.
        self._caught_up_at: int | None = None

    async def fetch(self, *, max_records: int, wait: float) -> list[Record]:
        """Reads when the file changed since the last read found nothing, else waits for it to."""
        deadline = time.monotonic() + wait
        while True:
            self._changes.check()
            seen = self._changes.generation
            if seen != self._caught_up_at:
                records = await self._read(max_records)
                if records:
                    return records
                self._caught_up_at = seen
            if not await self._changes.wait(seen, deadline):
                return []

    async def _read(self, max_records: int) -> list[Record]:
        found: list[Record] = []
        for (topic, partition), position in self._position.items():
            if len(found) >= max_records:
                break
            cursor = await self._conn.execute(
                'SELECT "offset", key, value, headers FROM records WHERE topic = ? AND '
                'partition = ? AND "offset" >= ? ORDER BY "offset" LIMIT ?',
                (topic, partition, position, max_records - len(found)),
            )
            for offset, key, value, raw_headers in await cursor.fetchall():
                headers = tuple(
                    (name, base64.b64decode(data)) for name, data in json.loads(raw_headers)
                )
                event: Event | None = None
                error: MalformedEvent | None = None
                try:
                    event = from_record(topic, key, value, headers)
                except MalformedEvent as exc:
                    error = exc
                found.append(Record(topic, partition, offset, key, value, headers, event, error))
                self._position[(topic, partition)] = offset + 1
        return found

    async def commit(self, records: Sequence[Record]) -> None:
        offsets: dict[tuple[str, int], int] = {}
        for record in records:
            where = (record.topic, record.partition)
            offsets[where] = max(offsets.get(where, 0), record.offset + 1)
        for (topic, partition), committed in offsets.items():
            self._committed[(topic, partition)] = committed
            await self._conn.execute(
                "INSERT INTO group_offsets (grp, topic, partition, committed) VALUES (?,?,?,?) "
                "ON CONFLICT (grp, topic, partition) DO UPDATE SET committed = "
                "MAX(committed, excluded.committed)",
                (self._group, topic, partition, committed),
            )

    async def lag(self) -> dict[tuple[str, int], int]:
        """The log's end minus what this member committed (read but not done counts as lag)."""
        lags: dict[tuple[str, int], int] = {}
        for (topic, partition), committed in self._committed.items():
            cursor = await self._conn.execute(_NEXT_OFFSET, (topic, partition))
            end = await cursor.fetchone()
            lags[(topic, partition)] = max((int(end[0]) if end else 0) - committed, 0)
        return lags

    async def close(self) -> None:
        await self._conn.close()


class EmbeddedBus:
    """`EventBus` in a SQLite file (default `<data dir>/bus/events.db`).

    `retention_ms`, when given, replaces every topic's own retention (a shorter one for
    dev, say); `clock` gives the time records are stamped and aged with (tests move it).
    """

    def __init__(
        self,
        path: Path,
        *,
        retention_ms: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if retention_ms is not None and retention_ms <= 0:
            raise ValueError("the retention must be positive")
        self._path = path
        self._retention_ms = retention_ms
        self._clock = clock
        self._swept_at: float | None = None
        self._conn: aiosqlite.Connection | None = None
        self._changes: BusChanges | None = None
        # One connection, shared by the relay and the consumers' dead letters: transactions
        # on it must not interleave ("cannot start a transaction within a transaction").
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self._conn = await _connect(self._path)
        await self.delete_expired()

    def _watcher(self) -> BusChanges:
        """The readers' change watcher, made once the file exists."""
        if self._changes is None:
            self._changes = BusChanges(self._path)
        return self._changes

    async def delete_expired(self) -> int:
        """Deletes every record older than its topic's retention; returns how many went."""
        async with self._lock:
            return await self._delete_expired()

    async def _delete_expired(self) -> int:
        conn = self._db()
        now = self._clock()
        self._swept_at = now
        await conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = await conn.execute("SELECT name, retention_ms FROM topics")
            deleted = 0
            for topic, topic_retention in await cursor.fetchall():
                retention = self._retention_ms or int(topic_retention)
                cutoff = now - retention / 1000
                # Remember where each partition ends before its records may all go.
                await conn.execute(
                    'INSERT INTO log_ends SELECT topic, partition, MAX("offset") + 1 FROM '
                    "records WHERE topic = ? AND appended_at < ? GROUP BY partition "
                    "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = "
                    "MAX(next_offset, excluded.next_offset)",
                    (topic, cutoff),
                )
                gone = await conn.execute(
                    "DELETE FROM records WHERE topic = ? AND appended_at < ?", (topic, cutoff)
                )
                deleted += max(gone.rowcount, 0)
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        return deleted

    async def _sweep_if_due(self) -> None:
        if self._swept_at is None or self._clock() - self._swept_at >= _SWEEP_INTERVAL:
            await self._delete_expired()

    async def close(self) -> None:
        if self._changes is not None:
            await self._changes.close()
            self._changes = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    def _db(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("start the bus first")
        return self._conn

    async def _partitions(self, topic: str) -> int:
        cursor = await self._db().execute("SELECT partitions FROM topics WHERE name = ?", (topic,))
        row = await cursor.fetchone()
        if row is None:
            raise UnknownTopic(f"topic {topic} does not exist; run `consilium topics create`")
        return int(row[0])

    async def publish(self, events: Sequence[Event]) -> None:
        async with self._lock:
            await self._sweep_if_due()
            await self._publish(events)
        announce_commit(self._path)  # this process's readers need not wait for a check

    async def _publish(self, events: Sequence[Event]) -> None:
        conn = self._db()
        await conn.execute("BEGIN IMMEDIATE")  # one writer at a time: offsets stay dense
        try:
            for event in events:
                partition = partition_for(event.key, await self._partitions(event.topic))
                cursor = await conn.execute(_NEXT_OFFSET, (event.topic, partition))
                row = await cursor.fetchone()
                assert row is not None
                headers = [(n, base64.b64encode(v).decode()) for n, v in event.headers()]
                await conn.execute(
                    "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        event.topic,
                        partition,
                        row[0],
                        event.key.encode(),
                        event.data,
                        json.dumps(headers),
                        self._clock(),
                    ),
                )
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise

    async def publish_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
    ) -> None:
        """Appends a record that need not be a valid event (dead letters, malformed tests)."""
        async with self._lock:
            await self._publish_raw(topic, key, value, headers)
        announce_commit(self._path)

    async def _publish_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
    ) -> None:
        conn = self._db()
        partition = partition_for(
            (key or b"").decode(errors="replace"), await self._partitions(topic)
        )
        await conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = await conn.execute(_NEXT_OFFSET, (topic, partition))
            row = await cursor.fetchone()
            assert row is not None
            encoded = [(n, base64.b64encode(v).decode()) for n, v in headers]
            await conn.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
                (topic, partition, row[0], key, value, json.dumps(encoded), self._clock()),
            )
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise

    async def rewrite_values(
        self,
        topics: Sequence[str],
        transform: Callable[[tuple[tuple[str, bytes], ...], bytes | None], bytes | None],
    ) -> int:
        """Replaces record values in place where `transform(headers, value)` returns bytes.

        For privacy migrations only (purging what older versions published): a log is
        otherwise append-only. Offsets, keys and headers stay; returns how many changed.
        """
        async with self._lock:
            conn = self._db()
            await conn.execute("BEGIN IMMEDIATE")
            try:
                changed = 0
                for topic in topics:
                    cursor = await conn.execute(
                        'SELECT partition, "offset", value, headers FROM records WHERE topic = ?',
                        (topic,),
                    )
                    for partition, offset, value, raw_headers in await cursor.fetchall():
                        headers = tuple(
                            (name, base64.b64decode(data)) for name, data in json.loads(raw_headers)
                        )
                        new = transform(headers, value)
                        if new is None or new == value:
                            continue
                        await conn.execute(
                            "UPDATE records SET value = ? WHERE topic = ? AND partition = ? AND "
                            '"offset" = ?',
                            (new, topic, partition, offset),
                        )
                        changed += 1
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
        return changed

    async def subscribe(
        self, *, group: str, topics: Sequence[str], from_beginning: bool = True
    ) -> Subscription:
        conn = await _connect(self._path)
        positions: dict[tuple[str, int], int] = {}
        for topic in topics:
            cursor = await conn.execute("SELECT partitions FROM topics WHERE name = ?", (topic,))
            row = await cursor.fetchone()
            if row is None:
                await conn.close()
                raise UnknownTopic(f"topic {topic} does not exist; run `consilium topics create`")
            for partition in range(int(row[0])):
                cursor = await conn.execute(
                    "SELECT committed FROM group_offsets WHERE grp = ? AND topic = ? AND "
                    "partition = ?",
                    (group, topic, partition),
                )
                committed = await cursor.fetchone()
                if committed is not None:
                    positions[(topic, partition)] = int(committed[0])
                elif from_beginning:
                    positions[(topic, partition)] = 0
                else:
                    cursor = await conn.execute(_NEXT_OFFSET, (topic, partition))
                    end = await cursor.fetchone()
                    positions[(topic, partition)] = int(end[0]) if end else 0
        return EmbeddedSubscription(conn, group, positions, self._watcher())

    async def create_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        async with self._lock:
            return await self._create_topics(specs)

    async def _create_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        created = []
        for spec in specs:
            cursor = await self._db().execute(
                "INSERT OR IGNORE INTO topics VALUES (?, ?, ?, ?)",
                (spec.name, spec.partitions, spec.retention_ms, spec.cleanup_policy),
            )
            if cursor.rowcount:
                created.append(spec.name)
        return created
