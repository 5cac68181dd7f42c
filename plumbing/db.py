"""Database engines (SQLite file by default, PostgreSQL by URL) and Alembic migrations."""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from plumbing import inline_reads

if TYPE_CHECKING:
    from alembic.config import Config


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

        inline_reads.attach(engine)
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
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    return config


#: `revision = "0007"` / `down_revision: str | None = "0006"` in a migration script.
_REVISION = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


def script_head(script_location: Path) -> str | None:
    """The one head of the scripts' chain, read from their files without importing Alembic;
    None when they are not a plain chain this can read (Alembic then decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (script_location / "versions").glob("*.py"):
        text_ = path.read_text(encoding="utf-8")
        found = {m.group(1): m.group(2) for m in _REVISION.finditer(text_)}
        try:
            revision = ast.literal_eval(found["revision"])
            parent = ast.literal_eval(found.get("down_revision", "None"))
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str) or not (parent is None or isinstance(parent, str)):
            return None  # a merge (a tuple of parents) or something unusual
        revisions.add(revision)
        if parent is not None:
            parents.add(parent)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def _at_revision(engine: AsyncEngine, revision: str) -> bool:
    """True when the database's `alembic_version` holds exactly `revision`."""
    try:
        async with engine.connect() as conn:
            found = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:  # no version table yet: a new database
        return False
    return [row[0] for row in found] == [revision]


async def migrate(engine: AsyncEngine, script_location: Path, revision: str = "head") -> None:
    """Upgrades the database behind `engine` to `revision` with the scripts in `script_location`.

    A database already at the scripts' head (every start after the first, or after the
    deployment's migration job) is left alone without importing Alembic, whose import (with
    Mako and Pygments) would stay in every service's memory for nothing. The migration
    environment (`env.py`) receives the live connection through
    `config.attributes["connection"]`; see `plumbing.migrations.run`.
    """
    head = script_head(script_location) if revision == "head" else None
    if head is not None and await _at_revision(engine, head):
        return
    from alembic import command

    config = _alembic_config(script_location)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
