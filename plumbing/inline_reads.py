"""Read-only SQLite statements run on the event loop's own thread, not through aiosqlite.

aiosqlite runs every driver call (cursor, execute, fetch, close) on a worker thread and hands
each result back through the event loop: four thread hops and loop wake-ups for one SELECT.
A feed page's batch reads are a dozen indexed SELECTs of well under a millisecond each, so the
hops cost more CPU than the queries (a fifth of the content service's CPU per feed request).

Here a plain synchronous SQLAlchemy engine on the same file serves the read-only units
(`reading()` of a store): each statement runs where it is awaited. It cannot block the loop on
a lock: its connections are `query_only` (no statement of theirs can write, so none ever
waits for the write lock), and in WAL mode a reader never waits for a writer. The busy timeout
left covers SQLite's rare recovery of the WAL index after a crash; it is short, not 30 s.
PostgreSQL and in-memory SQLite keep their async engine (asyncpg does no thread hops; an
in-memory database cannot be opened twice).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, CursorResult, ScalarResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

#: Longest a read waits on SQLite's own locks (only WAL-index recovery can make it wait).
BUSY_TIMEOUT_MS = 2_000


class InlineConnection:
    """The part of `AsyncConnection` the readers use, on a synchronous connection: awaiting
    `execute` runs the statement at once and returns its (fully readable) result."""

    __slots__ = ("_connection",)

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> CursorResult[*tuple[Any, ...]]:
        return self._connection.execute(statement, parameters)

    async def scalar(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        return self._connection.scalar(statement, parameters)

    async def scalars(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> ScalarResult[Any]:
        return self._connection.execute(statement, parameters).scalars()


#: What a read-only unit runs on.
ReadConnection = AsyncConnection | InlineConnection

#: The inline engine beside each async SQLite engine that has one (see `attach`).
_INLINE: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def attach(engine: AsyncEngine) -> None:
    """Gives a file-backed SQLite `engine` its inline read engine, disposed with it."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    inline = create_engine(
        url.set(drivername="sqlite+pysqlite"),
        # Never waits for a pooled connection: a wait would block the loop that returns them.
        pool_size=5,
        max_overflow=-1,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(inline, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "engine_disposed")
    def _dispose(_engine: Any) -> None:
        inline.dispose()

    _INLINE[engine.sync_engine] = inline


@contextmanager
def _inline_connection(inline: Engine) -> Iterator[InlineConnection]:
    with inline.connect() as connection:
        yield InlineConnection(connection)


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[ReadConnection]:
    """A connection for read-only work: inline on a SQLite file, else a pooled async one."""
    inline = _INLINE.get(engine.sync_engine)
    if inline is None:
        async with engine.connect() as connection:
            yield connection
        return
    with _inline_connection(inline) as connection:
        yield connection
