"""`consilium topics create`: the event topics, with partitions, retention and cleanup policy."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer

from plumbing.events.factory import create_bus
from plumbing.events.topics import topic_specs

app = typer.Typer(help="Event topics on Kafka (CONSILIUM_KAFKA_BOOTSTRAP) or the embedded bus.")


def _data_dir() -> Path:
    return Path(os.environ.get("CONSILIUM_DATA_DIR", ".consilium"))


async def create_topics(bootstrap: str | None, data_dir: Path) -> tuple[list[str], list[str]]:
    """Creates the missing topics; returns (created, already there)."""
    bus = create_bus(kafka_bootstrap=bootstrap, data_dir=data_dir, client_id="consilium-cli")
    await bus.start()
    try:
        specs = topic_specs()
        created = await bus.create_topics(specs)
    finally:
        await bus.close()
    return created, [s.name for s in specs if s.name not in created]


@app.command("create")
def create(
    bootstrap: str | None = typer.Option(
        None, envvar="CONSILIUM_KAFKA_BOOTSTRAP", help="Kafka bootstrap servers; embedded if unset"
    ),
) -> None:
    """Create every topic of the catalogue that does not exist yet (safe to run again)."""
    where = f"Kafka at {bootstrap}" if bootstrap else f"the embedded bus in {_data_dir()}"
    created, existing = asyncio.run(create_topics(bootstrap, _data_dir()))
    for spec in topic_specs():
        state = "created" if spec.name in created else "exists"
        typer.echo(
            f"{state:8} {spec.name:32} partitions={spec.partitions} "
            f"retention={spec.retention_ms // 86_400_000}d cleanup={spec.cleanup_policy}"
        )
    typer.echo(f"{len(created)} created, {len(existing)} already there, on {where}")
