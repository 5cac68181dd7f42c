"""Session fixtures for the real Kafka broker and PostgreSQL server that scripts/test.sh starts."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

KAFKA_ENV = "CONSILIUM_TEST_KAFKA_BOOTSTRAP"
POSTGRES_ENV = "CONSILIUM_TEST_POSTGRES_URL"


def _required_env(name: str, what: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(
            f"{name} is not set, so there is no real {what} to test against. "
            "Run the tests with `make test` or `scripts/test.sh [pytest args]`, which start "
            f"the {what} and set {name} (or start it by hand with scripts/kafka.sh or "
            "scripts/postgres.sh and export the env file it prints).",
            pytrace=False,
        )
    return value


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """`127.0.0.1:PORT` of the real single-node Kafka broker."""
    return _required_env(KAFKA_ENV, "Kafka broker")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy async URL (`postgresql+asyncpg://...`) of the real PostgreSQL test database."""
    return _required_env(POSTGRES_ENV, "PostgreSQL server")


async def _admin_connection(url_text: str) -> asyncpg.Connection:
    url = make_url(url_text)
    return await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=30,
    )


@pytest.fixture
async def fresh_postgres_url(postgres_url: str) -> AsyncIterator[str]:
    """URL of a new, empty database that only this test uses; dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:20]}"
    conn = await _admin_connection(postgres_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await _admin_connection(postgres_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
async def fresh_postgres_urls(postgres_url: str) -> AsyncIterator[dict[str, str]]:
    """A new, empty database per service (identity, anonymity, content, audit) for a whole
    system on PostgreSQL; dropped afterwards."""
    names = {
        s: f"test_{uuid.uuid4().hex[:20]}" for s in ("identity", "anonymity", "content", "audit")
    }
    conn = await _admin_connection(postgres_url)
    try:
        for name in names.values():
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = make_url(postgres_url)
    try:
        yield {
            service: base.set(database=name).render_as_string(hide_password=False)
            for service, name in names.items()
        }
    finally:
        conn = await _admin_connection(postgres_url)
        try:
            for name in names.values():
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
