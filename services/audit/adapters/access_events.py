"""Consumes `audit.identity-access.v1` as group "audit": each event appended to the ledger once.

The consumer runs the handler in a transaction that also records the envelope's id as
processed, so a redelivered record is skipped; `append` skips an audit event id it holds
already, so a producer republishing the same event under a new envelope is harmless too.
The handler checks no signature: the ledger keeps what producers sent, verification judges it.
A payload that does not decode raises, so the consumer dead-letters it after its retries.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from consilium.events.v1 import audit_events_pb2 as epb
from plumbing.events.envelope import Event
from services.audit.adapters.store import append

log = logging.getLogger("consilium.audit")

_HEAD = epb.AuditHeadSigned.DESCRIPTOR.full_name
#: The consumer group: the consuming service's name.
GROUP = "audit"


class AccessEventHandler:
    """`plumbing.events.consumer.Handler` for IdentityAccessRecorded."""

    def __init__(self) -> None:
        self.appended = 0
        self.rejected = 0

    async def __call__(self, event: Event, session: AsyncSession) -> None:
        if event.type == _HEAD:
            return  # producers' signed heads are for auditors to hold the ledger to, not stored
        if event.type != epb.IdentityAccessRecorded.DESCRIPTOR.full_name:
            log.info("audit: event of an unknown type skipped: %s", event.type)
            return
        record = event.decode(epb.IdentityAccessRecorded).event
        if not record.event_id or not record.producer or record.sequence < 1:
            # Retrying cannot help and it has no place in any chain; the topic keeps it.
            log.error(
                "audit: envelope %s carries an event with no id, producer or sequence; skipped",
                event.id,
            )
            self.rejected += 1
            return
        if await append(session, record):
            self.appended += 1
