"""What every service's `app.py` does the same way: settings, process set-up, serving, migrating."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from plumbing import db
from plumbing.events.runtime import EventRuntime
from plumbing.grpc.server import GrpcServer, run_until_signalled
from plumbing.logging import configure_logging
from plumbing.metrics.serving import serving_metrics
from plumbing.settings import ComponentSettings
from plumbing.telemetry import setup_telemetry

S = TypeVar("S", bound=ComponentSettings)


def load_settings(cls: type[S], *, host: str | None = None, port: int | None = None) -> S:
    """Settings from the environment, with the command line's host and port on top."""
    overrides: dict[str, Any] = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    return cls(**overrides)


def start_process(settings: ComponentSettings) -> None:
    """Logging and telemetry of a component's process, named after the component."""
    configure_logging(settings.component, level=settings.log_level, fmt=settings.log_format)
    setup_telemetry(settings.component)


async def serve_until_signalled(
    server: GrpcServer, events: EventRuntime, settings: ComponentSettings
) -> None:
    """Events start first, so the relay sends what waited in the outbox; they stop after the
    server, so the last requests' events still leave and consumers commit their batch. A
    broker that is away only delays them: the relay retries and writes go on. The metrics
    endpoint (when `metrics_port` is set) outlives both, so the drain is visible too."""
    async with serving_metrics(settings.component, settings.host, settings.metrics_port, events):
        await events.start()
        await run_until_signalled(server, on_stopped=[events.stop])


async def migrate_database(url: str, scripts: Path) -> None:
    """Upgrades the database at `url` with the Alembic scripts in `scripts`."""
    engine = db.create_engine(url)
    try:
        await db.migrate(engine, scripts)
    finally:
        await engine.dispose()
