"""`IndexRepository` over one SQLAlchemy session: rows of index_entries by key, nothing more."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.anonymity.adapters.tables import index_entries


class SqlIndexRepository:
    """Looks rows up and appends them; it never lists or scans (it knows no owner)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def has(self, row_key: str) -> bool:
        query = select(exists().where(index_entries.c.row_key == row_key))
        return bool(await self._session.scalar(query))

    async def get(self, row_keys: Iterable[str]) -> dict[str, bytes]:
        wanted = list(row_keys)
        if not wanted:
            return {}
        rows = await self._session.execute(
            select(index_entries.c.row_key, index_entries.c.sealed).where(
                index_entries.c.row_key.in_(wanted)
            )
        )
        return {row.row_key: bytes(row.sealed) for row in rows}

    async def add(self, row_key: str, sealed: bytes) -> bool:
        """Appends a row; False (and nothing written) when the key is taken already."""
        try:
            async with self._session.begin_nested():
                await self._session.execute(
                    insert(index_entries).values(row_key=row_key, sealed=sealed)
                )
        except IntegrityError:
            return False
        return True

    async def put(self, row_key: str, sealed: bytes) -> None:
        """Writes a row whether or not it exists (a read marker)."""
        result = await self._session.execute(
            update(index_entries).where(index_entries.c.row_key == row_key).values(sealed=sealed)
        )
        if not getattr(result, "rowcount", 0):
            await self.add(row_key, sealed)
