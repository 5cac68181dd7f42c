"""Consumes `identity.physicians.v1` as group "anonymity": a thin adapter over PhysicianFeed.

The consumer hands every event over inside a database transaction that also records the
event id as processed, so a redelivered event is skipped and a failed one leaves nothing
behind. Types this version does not know are skipped (and marked processed): identity
may add events before anonymity learns them.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from plumbing.events.envelope import Event
from services.anonymity.adapters.event_converters import physician_change
from services.anonymity.adapters.store import Notify, SqlAliasRepository
from services.anonymity.people import PhysicianFeed

log = logging.getLogger("consilium.anonymity")

#: The consumer group: the consuming service's name.
GROUP = "anonymity"


class IdentityEventHandler:
    """`plumbing.events.consumer.Handler` for identity's physician events."""

    #: Identity's events are keyed by user id: alias events made here start fresh traces (A3).
    person_keyed = True

    def __init__(self, feed: PhysicianFeed, *, notify: Notify) -> None:
        self._feed = feed
        self._notify = notify

    async def __call__(self, event: Event, session: AsyncSession) -> None:
        change = physician_change(event)
        if change is None:
            log.info("identity event of an unknown type skipped: %s", event.type)
            return
        repo = SqlAliasRepository(session)
        await self._feed.apply(repo, change)
        if repo.queued:
            # Before the consumer commits: the relay may look too early, then polls again.
            self._notify()
