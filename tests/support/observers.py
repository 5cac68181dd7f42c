"""What a reader of the embedded bus or of a SQLite file sees, for the adversary tests:
every row, every record with its trace id, the alias ids in them, and when events have settled."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from plumbing.events.factory import embedded_path
from support.recording_proxy import ALIAS_ID


def sqlite_rows(path: Path) -> dict[tuple[str, str], str]:
    """Every row of a SQLite database, keyed by table and row text (a reader's snapshot)."""
    rows: dict[tuple[str, str], str] = {}
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not r[0].startswith(("sqlite_", "posts_fts"))
        ]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                text = repr(row)
                rows[(table, text)] = text
    return rows


def alias_ids_in(texts: list[str]) -> set[str]:
    found: set[str] = set()
    for text in texts:
        found |= {m.decode() for m in ALIAS_ID.findall(text.encode())}
    return found


@dataclass(frozen=True, slots=True)
class TopicRecord:
    topic: str
    offset: int
    key: bytes
    value: bytes
    traceparent: str | None

    def alias_ids(self) -> set[str]:
        return {m.decode() for m in ALIAS_ID.findall(self.key + b"\n" + self.value)}

    @property
    def trace_id(self) -> str | None:
        return self.traceparent.split("-")[1] if self.traceparent else None


def topic_records(data_dir: Path) -> list[TopicRecord]:
    with contextlib.closing(sqlite3.connect(embedded_path(data_dir))) as conn:
        rows = conn.execute(
            'SELECT topic, "offset", key, value, headers FROM records ORDER BY appended_at'
        ).fetchall()
    records = []
    for topic, offset, key, value, headers in rows:
        names = dict(json.loads(headers))
        raw = names.get("traceparent")
        traceparent = base64.b64decode(raw).decode() if raw else None
        records.append(TopicRecord(topic, offset, key or b"", value or b"", traceparent))
    return records


async def settled(databases: Iterable[Path], data_dir: Path, groups: dict[str, str]) -> None:
    """Waits until every outbox in `databases` is sent and every consumer group of `groups`
    (group -> topic) has committed the end of its topic on the embedded bus."""
    deadline = time.monotonic() + 60
    while pending := _pending(databases, data_dir, groups):
        assert time.monotonic() < deadline, f"events did not settle: {pending}"
        await asyncio.sleep(0.05)


def _pending(databases: Iterable[Path], data_dir: Path, groups: dict[str, str]) -> list[str]:
    pending = []
    for path in databases:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            unsent = conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()
        if unsent[0]:
            pending.append(f"{path.name} outbox {unsent[0]}")
    with contextlib.closing(sqlite3.connect(embedded_path(data_dir))) as conn:
        for group, topic in groups.items():
            ends = dict(
                conn.execute(
                    'SELECT partition, MAX("offset") + 1 FROM records WHERE topic = ? '
                    "GROUP BY partition",
                    (topic,),
                ).fetchall()
            )
            done = dict(
                conn.execute(
                    "SELECT partition, committed FROM group_offsets WHERE grp = ? AND topic = ?",
                    (group, topic),
                ).fetchall()
            )
            behind = [p for p, end in ends.items() if done.get(p, 0) < end]
            if behind:
                pending.append(f"{group} behind on {topic} {behind}")
    return pending
