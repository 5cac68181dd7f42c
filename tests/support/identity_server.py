"""An in-process identity server on its own SQLite file, for the tests of the services that call it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from services.identity.app import Identity, build
from services.identity.settings import IdentitySettings

#: Cheap argon2 for tests: the cost parameters are not what these tests are about.
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 64, "argon2_parallelism": 1}


@contextlib.asynccontextmanager
async def running_identity(data_dir: Path, database: Path) -> AsyncIterator[Identity]:
    """Identity serving on an ephemeral loopback port, sharing `data_dir` (and so the dev
    published service keys and the trusted audit keys) with the service under test."""
    settings = IdentitySettings(
        database_url=f"sqlite+aiosqlite:///{database}",
        data_dir=data_dir,
        port=0,
        **FAST_ARGON2,  # type: ignore[arg-type]
    )
    async with build(settings) as instance:
        await instance.server.start()
        try:
            yield instance
        finally:
            await instance.server.stop()
