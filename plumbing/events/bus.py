"""The event bus as the services see it: publish in order per key, consume in groups, commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from plumbing.events.envelope import Event, MalformedEvent


@dataclass(frozen=True, slots=True)
class Record:
    """A consumed record: the event (or why it is not one) and where it sits in the log."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    event: Event | None
    error: MalformedEvent | None = None


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """How a topic is created: partitions, retention and cleanup policy."""

    name: str
    partitions: int = 3
    retention_ms: int = 7 * 24 * 3600 * 1000
    cleanup_policy: str = "delete"
    replication_factor: int = 1


class Subscription(Protocol):
    """A member of a consumer group: fetch records, then commit what was processed."""

    async def fetch(self, *, max_records: int, wait: float) -> list[Record]: ...

    async def commit(self, records: Sequence[Record]) -> None:
        """Marks every record up to and including these as processed, per partition."""

    async def close(self) -> None: ...

    async def lag(self) -> dict[tuple[str, int], int]:
        """Records not yet committed, per (topic, partition) this member reads."""


class EventBus(Protocol):
    """Kafka in tests and production, the embedded bus in dev: the same semantics.

    `publish` returns once every event is durably stored (acks=all), in order per key.
    Delivery to consumers is at least once; consumers deduplicate by event id.
    """

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, events: Sequence[Event]) -> None: ...

    async def publish_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
    ) -> None:
        """Appends a record as it is (dead letters keep the original bytes)."""

    async def subscribe(
        self, *, group: str, topics: Sequence[str], from_beginning: bool = True
    ) -> Subscription: ...

    async def create_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        """Creates the topics that do not exist yet; returns the names it created."""
