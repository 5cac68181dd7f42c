"""Fixtures: an identity server over real gRPC on loopback, on SQLite and on real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from identity_harness import FAST_ARGON2, IdentityClient

from consilium.identity.v1 import identity_pb2_grpc
from services.identity.app import build
from services.identity.settings import IdentitySettings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def identity_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture
async def identity(identity_database_url: str, tmp_path: Path) -> AsyncIterator[IdentityClient]:
    settings = IdentitySettings(
        database_url=identity_database_url,
        data_dir=tmp_path / "data",
        port=0,
        **FAST_ARGON2,  # type: ignore[arg-type]
    )
    async with build(settings) as instance:
        port = await instance.server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                yield IdentityClient(
                    identity_pb2_grpc.IdentityServiceStub(channel), channel, instance
                )
        finally:
            await instance.server.stop()
