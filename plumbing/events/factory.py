"""Chooses the bus: Kafka when `CONSILIUM_KAFKA_BOOTSTRAP` is set, else the embedded one."""

from __future__ import annotations

from pathlib import Path

from plumbing.events.bus import EventBus
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.kafka import KafkaBus


def embedded_path(data_dir: Path) -> Path:
    """Where the dev bus lives: one file every component of a dev system shares."""
    return data_dir / "bus" / "events.db"


def create_bus(*, kafka_bootstrap: str | None, data_dir: Path, client_id: str) -> EventBus:
    if kafka_bootstrap:
        return KafkaBus(kafka_bootstrap, client_id=client_id)
    return EmbeddedBus(embedded_path(data_dir))
