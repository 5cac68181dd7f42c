"""A test's database engine with its tables made, disposed of when the test is done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from plumbing import db


@asynccontextmanager
async def engine_with(url: str, metadata: MetaData) -> AsyncIterator[AsyncEngine]:
    """An engine on `url` (SQLite file or PostgreSQL) where `metadata`'s tables exist."""
    created = db.create_engine(url)
    try:
        async with created.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield created
    finally:
        await created.dispose()
