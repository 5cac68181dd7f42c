"""Fixtures: anonymity over real gRPC on SQLite and on real PostgreSQL, with a real identity.

Identity runs in-process on its own SQLite file (its store is not what these tests are
about); both share a data dir, so each finds the other's published dev service key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from anonymity_harness import Stack, anonymity_settings, running_anonymity
from support.identity_server import running_identity

from services.identity.app import Identity


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def identity_server(data_dir: Path, tmp_path: Path) -> AsyncIterator[Identity]:
    async with running_identity(data_dir, tmp_path / "identity.db") as instance:
        yield instance


@pytest.fixture
async def stack(
    database_url: str, data_dir: Path, identity_server: Identity
) -> AsyncIterator[Stack]:
    settings = anonymity_settings(database_url, data_dir, identity_server)
    async with running_anonymity(settings, identity_server) as running:
        yield running
