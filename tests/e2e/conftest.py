"""The whole system on loopback for end-to-end tests (SQLite; PostgreSQL where a test asks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.system import System, run_system


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    async with run_system(tmp_path / "data") as running:
        yield running
