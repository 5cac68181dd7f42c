"""The `anonymity.aliases.v1` consumer: AliasSuspended, AliasReinstated and AliasOrphaned in.

The handler runs in the consumer's transaction, which also records the event id as
processed, so a redelivered event changes nothing. A payload that does not decode, or an
alias id content would refuse, raises: the consumer retries, then dead-letters the record
to `anonymity.aliases.v1.dlq` and carries on. Event types content does not act on are
skipped, so anonymity can add one without stalling this consumer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from consilium.events.v1 import anonymity_events_pb2 as events_pb
from plumbing.events.envelope import Event
from plumbing.events.topics import ANONYMITY_ALIASES
from services.content.adapters.store import SqlContentStore
from services.content.aliases import AliasChange, apply_alias_change

#: Consumer group = the consuming service's name (STYLE.md).
GROUP = "content"
TOPICS = (ANONYMITY_ALIASES,)

log = logging.getLogger("consilium.content.events")

_SUSPENDED = events_pb.AliasSuspended.DESCRIPTOR.full_name
_REINSTATED = events_pb.AliasReinstated.DESCRIPTOR.full_name
_ORPHANED = events_pb.AliasOrphaned.DESCRIPTOR.full_name


def alias_change_from(event: Event) -> tuple[str, AliasChange] | None:
    """The alias id and what happened to it; None for a type content does not act on."""
    if event.type == _SUSPENDED:
        return event.decode(events_pb.AliasSuspended).alias_id, AliasChange.SUSPENDED
    if event.type == _REINSTATED:
        return event.decode(events_pb.AliasReinstated).alias_id, AliasChange.REINSTATED
    if event.type == _ORPHANED:
        return event.decode(events_pb.AliasOrphaned).alias_id, AliasChange.ORPHANED
    return None


class AliasEventHandler:
    """`plumbing.events.consumer.Handler` for the alias topic, over the content store."""

    def __init__(
        self, store: SqlContentStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._clock = clock

    async def __call__(self, event: Event, session: AsyncSession) -> None:
        found = alias_change_from(event)
        if found is None:
            log.info("skipping an event of type %s: content does not act on it", event.type)
            return
        alias_id, change = found
        await apply_alias_change(self._store.joined(session), alias_id, change, self._clock())
