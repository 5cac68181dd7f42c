"""Fixtures: the audit ledger over real gRPC on SQLite and real PostgreSQL, fed through the
embedded bus (and, in the Kafka test, a real broker), with a real identity for tokens.

Identity runs in-process on its own SQLite file: its store is not what these tests are about.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from audit_harness import Ledger, audit_settings, running_ledger
from support.identity_server import running_identity
from tamper_scene import Scene, pinned_scene

from plumbing.events.embedded import EmbeddedBus
from plumbing.events.factory import embedded_path
from plumbing.events.kafka import KafkaBus
from services.identity.app import Identity


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def identity_server(data_dir: Path, tmp_path: Path) -> AsyncIterator[Identity]:
    async with running_identity(data_dir, tmp_path / "identity.db") as instance:
        yield instance


@pytest.fixture
async def ledger(
    database_url: str, data_dir: Path, identity_server: Identity
) -> AsyncIterator[Ledger]:
    """The ledger on the embedded bus in the data dir."""
    settings = audit_settings(database_url, data_dir, identity_server)
    async with running_ledger(
        settings, identity_server, lambda: EmbeddedBus(embedded_path(data_dir))
    ) as running:
        yield running


@pytest.fixture
async def kafka_ledger(
    tmp_path: Path, data_dir: Path, identity_server: Identity, kafka_bootstrap: str
) -> AsyncIterator[Ledger]:
    """The ledger (SQLite) consuming from the real Kafka broker."""
    settings = audit_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}", data_dir, identity_server
    )
    async with running_ledger(
        settings,
        identity_server,
        lambda: KafkaBus(kafka_bootstrap, client_id=f"audit-test-{uuid.uuid4().hex[:8]}"),
    ) as running:
        yield running


@pytest.fixture
async def scene(
    database_url: str, data_dir: Path, identity_server: Identity, tmp_path: Path
) -> AsyncIterator[Scene]:
    """A ledger with pinned producers `identity` (5 events) and `anonymity` (3), all logged."""
    async with pinned_scene(database_url, data_dir, identity_server, tmp_path) as made:
        yield made
