"""Smoke test of the real PostgreSQL server: version, and isolation of fresh databases."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.postgres


async def test_server_is_postgresql_15_or_newer(postgres_url: str) -> None:
    engine = create_async_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(text("SHOW server_version"))).scalar_one()
            user = (await conn.execute(text("SELECT current_user"))).scalar_one()
    finally:
        await engine.dispose()
    assert int(version.split(".")[0]) >= 15, version
    assert user == make_url(postgres_url).username


async def test_fresh_database_is_empty_and_isolated(
    postgres_url: str, fresh_postgres_url: str
) -> None:
    fresh_name = make_url(fresh_postgres_url).database
    assert fresh_name != make_url(postgres_url).database

    count_tables = text(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
    )
    fresh = create_async_engine(fresh_postgres_url)
    main = create_async_engine(postgres_url)
    try:
        async with fresh.begin() as conn:
            current = (await conn.execute(text("SELECT current_database()"))).scalar_one()
            assert current == fresh_name
            assert (await conn.execute(count_tables)).scalar_one() == 0
            await conn.execute(text("CREATE TABLE only_here (id int PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO only_here VALUES (1)"))
        async with main.connect() as conn:
            visible = (
                await conn.execute(text("SELECT to_regclass('public.only_here') IS NOT NULL"))
            ).scalar_one()
        assert visible is False
    finally:
        await fresh.dispose()
        await main.dispose()
