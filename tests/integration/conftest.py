"""What the integration tests of every service share."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The service's database under test: a SQLite file, or a fresh database on the real
    PostgreSQL (the same behavioural tests run against both)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url
