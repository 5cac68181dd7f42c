"""Chooses the bus: Kafka when `CONSILIUM_KAFKA_BOOTSTRAP` is set, else the embedded one.

On Kafka the security settings (`CONSILIUM_KAFKA_SECURITY_PROTOCOL`, SASL, TLS) are read here,
at startup, so inconsistent ones stop the process before it serves.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from plumbing.events.bus import EventBus
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.kafka import KafkaBus
from plumbing.events.kafka_security import KafkaSecurity

#: Seconds the embedded bus keeps every record; unset: each topic's own retention, as on
#: Kafka (30 days for identity's and anonymity's topics, 7 for posts, a year for audit).
RETENTION_ENV = "CONSILIUM_EMBEDDED_BUS_RETENTION_SECONDS"


def embedded_path(data_dir: Path) -> Path:
    """Where the dev bus lives: one file every component of a dev system shares."""
    return data_dir / "bus" / "events.db"


def embedded_retention_ms(environ: Mapping[str, str] | None = None) -> int | None:
    """The bus-wide retention override from the environment, in milliseconds (None: unset)."""
    raw = (os.environ if environ is None else environ).get(RETENTION_ENV, "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{RETENTION_ENV} must be a number of seconds, not {raw!r}") from None
    if seconds <= 0:
        raise ValueError(f"{RETENTION_ENV} must be positive")
    return int(seconds * 1000)


def create_bus(
    *,
    kafka_bootstrap: str | None,
    data_dir: Path,
    client_id: str,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> EventBus:
    if kafka_bootstrap:
        return KafkaBus(
            kafka_bootstrap, client_id=client_id, security=KafkaSecurity.from_env(environ)
        )
    return EmbeddedBus(
        embedded_path(data_dir), retention_ms=embedded_retention_ms(environ), clock=clock
    )
