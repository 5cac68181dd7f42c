"""A cold backup and restore of one test database: a file copy on SQLite, a template on PostgreSQL.

Take both while the service using the database is stopped, as a cold backup would be.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url


class Backups:
    """Backs the database at `url` up and restores it; `admin_url` is PostgreSQL's (None on
    SQLite), the connection that may create and drop databases."""

    def __init__(self, url: str, admin_url: str | None, tmp_path: Path) -> None:
        self.url = url
        self._admin_url = admin_url
        self._copy = tmp_path / "backup.db"

    @property
    def _sqlite(self) -> Path:
        return Path(self.url.removeprefix("sqlite+aiosqlite:///"))

    async def _admin(self, statement: str) -> None:
        assert self._admin_url is not None
        url = make_url(self._admin_url)
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
        )
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    def _copy_file(self) -> None:
        with (
            closing(sqlite3.connect(self._sqlite)) as source,
            closing(sqlite3.connect(self._copy)) as target,
        ):
            source.backup(target)

    def _restore_file(self) -> None:
        for suffix in ("-wal", "-shm"):
            Path(f"{self._sqlite}{suffix}").unlink(missing_ok=True)
        self._sqlite.write_bytes(self._copy.read_bytes())

    async def backup(self) -> None:
        if self._admin_url is None:
            await asyncio.to_thread(self._copy_file)
            return
        name = make_url(self.url).database
        await self._admin(f'CREATE DATABASE "{name}_bak" TEMPLATE "{name}"')

    async def restore(self) -> None:
        if self._admin_url is None:
            await asyncio.to_thread(self._restore_file)
            return
        name = make_url(self.url).database
        await self._admin(f'DROP DATABASE "{name}" WITH (FORCE)')
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{name}_bak"')
        await self._admin(f'DROP DATABASE "{name}_bak"')
