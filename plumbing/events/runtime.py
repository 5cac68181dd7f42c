"""A service's event machinery in one place: bus, outbox relay and consumers, in lifecycle order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from plumbing.events.bus import EventBus
from plumbing.events.consumer import EventConsumer, Handler
from plumbing.events.outbox import OutboxRelay
from plumbing.events.tables import outbox_table, processed_table


@dataclass(frozen=True, slots=True)
class EventTables:
    """The outbox and processed-events tables of one service's metadata."""

    outbox: Table
    processed: Table

    @classmethod
    def add_to(cls, metadata: MetaData) -> EventTables:
        return cls(outbox=outbox_table(metadata), processed=processed_table(metadata))


@dataclass
class EventRuntime:
    """Starts the bus, the relay and the consumers; stops them in the reverse order.

    On SIGTERM the service stops its gRPC server first, then calls `stop()`: consumers finish
    and commit their batch, the relay sends what it can, the producer flushes, the bus closes.
    """

    bus: EventBus
    engine: AsyncEngine
    tables: EventTables
    relay: OutboxRelay = field(init=False)
    consumers: list[EventConsumer] = field(default_factory=list)
    #: Outbox rows the relay claims per pass.
    relay_batch_size: int = 200

    def __post_init__(self) -> None:
        self.relay = OutboxRelay(
            self.engine, self.tables.outbox, self.bus, batch_size=self.relay_batch_size
        )

    def consume(
        self,
        *,
        group: str,
        topics: Sequence[str],
        handler: Handler,
        person_keyed: bool | None = None,
    ) -> EventConsumer:
        """`person_keyed`: see `EventConsumer` (None: as the handler declares)."""
        consumer = EventConsumer(
            self.bus,
            self.engine,
            self.tables.processed,
            group=group,
            topics=topics,
            handler=handler,
            person_keyed=person_keyed,
        )
        self.consumers.append(consumer)
        return consumer

    async def start(self) -> None:
        await self.bus.start()
        self.relay.start()
        for consumer in self.consumers:
            await consumer.start()

    async def stop(self) -> None:
        for consumer in self.consumers:
            await consumer.stop()
        await self.relay.stop()
        await self.bus.close()
