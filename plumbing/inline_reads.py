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

#: Idle connections each inline engine keeps open between read-only units.
KEEP_IDLE = 5


class InlineReads:
    """The inline engine of one SQLite file, and its idle connections.

    A unit takes an idle connection and gives it back, open: closing one (and its pool's
    reset on return) costs SQLAlchemy a rollback each time, more than a feed page's reads
    (each SELECT here is its own snapshot: pysqlite opens no transaction for it, so there
    is nothing to roll back). A connection a unit failed on is closed, not kept.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._idle: list[Connection] = []

    @contextmanager
    def connection(self) -> Iterator[InlineConnection]:
        connection = self._idle.pop() if self._idle else self._engine.connect()
        try:
            yield InlineConnection(connection)
        except BaseException:
            connection.close()
            raise
        # Nothing opens a SQLite transaction here (query_only allows no writes); should
        # anything have, the next unit must not read inside its snapshot.
        dbapi = connection.connection.dbapi_connection
        if dbapi is not None and dbapi.in_transaction:
            connection.rollback()
        if len(self._idle) < KEEP_IDLE:
            self._idle.append(connection)
        else:
            connection.close()

    def dispose(self) -> None:
        while self._idle:
            self._idle.pop().close()
        self._engine.dispose()


#: The inline reads beside each async SQLite engine that has them (see `attach`).
_INLINE: weakref.WeakKeyDictionary[Engine, InlineReads] = weakref.WeakKeyDictionary()


def attach(engine: AsyncEngine) -> None:
    """Gives a file-backed SQLite `engine` its inline reads, disposed with it."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    inline = create_engine(
        url.set(drivername="sqlite+pysqlite"),
        # Never waits for a pooled connection: a wait would block the loop that returns them.
        pool_size=KEEP_IDLE,
        max_overflow=-1,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(inline, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    reads = InlineReads(inline)

    @event.listens_for(engine.sync_engine, "engine_disposed")
    def _dispose(_engine: Any) -> None:
        reads.dispose()

    _INLINE[engine.sync_engine] = reads


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[ReadConnection]:
    """A connection for read-only work: inline on a SQLite file, else a pooled async one."""
    reads = _INLINE.get(engine.sync_engine)
    if reads is None:
        async with engine.connect() as connection:
            yield connection
        return
    with reads.connection() as connection:
        yield connection
