"""The whole system on loopback for end-to-end tests (SQLite; PostgreSQL where a test asks).

`backing` runs a test twice: on SQLite with the embedded bus, and on PostgreSQL with Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.system import System, run_system


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    async with run_system(tmp_path / "data") as running:
        yield running


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("kafka-postgres", marks=[pytest.mark.kafka, pytest.mark.postgres]),
    ]
)
def backing(request: pytest.FixtureRequest) -> tuple[dict[str, str] | None, str | None]:
    """(database URLs, Kafka bootstrap): SQLite and the embedded bus, or the real ones."""
    if request.param == "embedded":
        return None, None
    urls: dict[str, str] = request.getfixturevalue("fresh_postgres_urls")
    bootstrap: str = request.getfixturevalue("kafka_bootstrap")
    return urls, bootstrap
