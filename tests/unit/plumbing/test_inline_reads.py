"""Read-only units on a SQLite file run inline: they see every commit, never write, and never
wait for a writer (a wait would block the event loop the writer needs to finish)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from plumbing import db
from plumbing.inline_reads import InlineConnection, read_connection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    yield engine
    await engine.dispose()


async def test_a_file_database_reads_inline_and_sees_each_commit(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES ('first')"))
    async with read_connection(engine) as reader:
        assert isinstance(reader, InlineConnection)
        assert await reader.scalar(text("SELECT count(*) FROM notes")) == 1
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO notes (body) VALUES ('second')"))
        # Each statement is its own snapshot, as on the pooled async connection.
        rows = (await reader.execute(text("SELECT body FROM notes ORDER BY id"))).all()
        assert [body for (body,) in rows] == ["first", "second"]
        assert list(await reader.scalars(text("SELECT id FROM notes ORDER BY id"))) == [1, 2]


async def test_an_inline_read_cannot_write(engine: AsyncEngine) -> None:
    async with read_connection(engine) as reader:
        with pytest.raises(OperationalError, match="readonly"):
            await reader.execute(text("INSERT INTO notes (body) VALUES ('sneaky')"))
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM notes")) == 0


async def test_a_read_never_waits_for_a_writer_holding_the_lock(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES ('committed')"))
    async with engine.connect() as writer:
        await writer.execute(text("BEGIN IMMEDIATE"))
        await writer.execute(text("INSERT INTO notes (body) VALUES ('pending')"))
        began = time.monotonic()
        async with read_connection(engine) as reader:
            rows = (await reader.execute(text("SELECT body FROM notes"))).all()
        # Well under the busy timeout: a reader in WAL mode does not take the lock at all.
        assert time.monotonic() - began < 1.0
        assert [body for (body,) in rows] == ["committed"]
        await writer.execute(text("COMMIT"))


async def test_many_concurrent_readers_never_wait_for_a_pooled_connection(
    engine: AsyncEngine,
) -> None:
    holders = 20  # more than the pool keeps
    holding: list[InlineConnection] = []
    all_holding = asyncio.Event()

    async def hold() -> int:
        async with read_connection(engine) as reader:
            assert isinstance(reader, InlineConnection)
            holding.append(reader)
            if len(holding) == holders:
                all_holding.set()
            await all_holding.wait()  # each holds its connection across an await
            return int(await reader.scalar(text("SELECT count(*) FROM notes")))

    async with asyncio.timeout(5):
        counts = await asyncio.gather(*(hold() for _ in range(holders)))
    assert counts == [0] * holders


async def test_memory_and_server_databases_keep_their_async_connection() -> None:
    engine = db.create_engine("sqlite+aiosqlite://")
    try:
        async with read_connection(engine) as reader:
            assert isinstance(reader, AsyncConnection)
            assert await reader.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_a_kept_connection_reads_fresh_in_the_next_unit(engine: AsyncEngine) -> None:
    async with read_connection(engine) as reader:
        assert isinstance(reader, InlineConnection)
        first = reader._connection
        # A half-read result must not pin its snapshot for the next unit on this connection.
        (await reader.execute(text("SELECT count(*) FROM notes"))).first()
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES ('later')"))
    async with read_connection(engine) as reader:
        assert isinstance(reader, InlineConnection)
        assert reader._connection is first  # kept open, not closed and reopened
        assert await reader.scalar(text("SELECT count(*) FROM notes")) == 1


async def test_a_connection_a_unit_failed_on_is_not_kept(engine: AsyncEngine) -> None:
    with pytest.raises(OperationalError):
        async with read_connection(engine) as reader:
            assert isinstance(reader, InlineConnection)
            failed = reader._connection
            await reader.execute(text("SELECT * FROM no_such_table"))
    assert failed.closed
    async with read_connection(engine) as reader:
        assert isinstance(reader, InlineConnection)
        assert reader._connection is not failed


async def test_disposing_the_engine_closes_the_kept_connections(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gone.db'}")
    async with read_connection(engine) as reader:
        assert isinstance(reader, InlineConnection)
        kept = reader._connection
    await engine.dispose()
    assert kept.closed
