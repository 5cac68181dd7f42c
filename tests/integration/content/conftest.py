"""Fixtures: a content server over real gRPC on loopback, on SQLite and on real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from content_harness import ContentClient

from consilium.content.v1 import content_pb2_grpc
from services.content.app import build
from services.content.settings import ContentSettings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def content_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'content' / 'content.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture
async def content(content_database_url: str, tmp_path: Path) -> AsyncIterator[ContentClient]:
    settings = ContentSettings(database_url=content_database_url, data_dir=tmp_path, port=0)
    async with build(settings) as instance:
        port = await instance.server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                yield ContentClient(content_pb2_grpc.ContentServiceStub(channel), instance)
        finally:
            await instance.server.stop()
