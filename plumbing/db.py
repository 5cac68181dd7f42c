"""Database engines (SQLite file by default, PostgreSQL by URL) and Alembic migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite files get their directory, WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Deleted rows are overwritten with zeros, not left in free pages: a shredded key
            # or an erased name must not survive in the file (P6).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession], *, writes: bool = False
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits on success, rolls back on any error.

    `writes`: it writes, perhaps after reading. SQLite then takes the write lock first
    (BEGIN IMMEDIATE), waiting out its busy timeout while another writer finishes. Left to
    itself it would start reading and ask for the lock at the first write, and a read
    snapshot that a concurrent commit has made stale can never get it: `database is
    locked` at once, without waiting (WAL mode). PostgreSQL needs nothing of the kind.
    """
    async with sessions() as session, session.begin():
        if writes and session.bind is not None and session.bind.dialect.name == "sqlite":
            await session.execute(text("BEGIN IMMEDIATE"))
        yield session


async def ping(engine: AsyncEngine) -> bool:
    """True when the database answers a trivial query within 2 seconds."""
    try:
        async with asyncio.timeout(2):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def _alembic_config(script_location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    return config


async def migrate(engine: AsyncEngine, script_location: Path, revision: str = "head") -> None:
    """Upgrades the database behind `engine` to `revision` with the scripts in `script_location`.

    The migration environment (`env.py`) receives the live connection through
    `config.attributes["connection"]`; see `plumbing.migrations.run`.
    """
    config = _alembic_config(script_location)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
