"""Test helpers for identity's events: its outbox rows and what reached `identity.physicians.v1`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from plumbing.events.bus import Subscription
from plumbing.events.envelope import Event
from services.identity.adapters.tables import event_tables
from services.identity.app import Identity


@dataclass
class PhysicianTopic:
    """A consumer of the topic that remembers every event it has read, whatever its key."""

    subscription: Subscription
    seen: list[Event] = field(default_factory=list)

    async def events_for(self, key: str, count: int, *, wait: float = 30) -> list[Event]:
        """The events keyed `key`, in topic order, once at least `count` have arrived."""
        deadline = time.monotonic() + wait
        while True:
            mine = [e for e in self.seen if e.key == key]
            if len(mine) >= count or time.monotonic() >= deadline:
                return mine
            records = await self.subscription.fetch(max_records=500, wait=0.5)
            self.seen.extend(r.event for r in records if r.event is not None)


async def outbox_rows(instance: Identity, key: str | None = None) -> list[Any]:
    """Outbox rows in write order; only those keyed `key` when given."""
    table = event_tables.outbox
    query = select(table).order_by(table.c.position)
    if key is not None:
        query = query.where(table.c.event_key == key)
    async with instance.engine.connect() as conn:
        return list((await conn.execute(query)).all())
