"""Indexed columns held against the signed event they index: a query never trusts a column.

Queries filter on columns for speed; each row they return is re-derived from its stored
signed bytes and dropped when a column disagrees, so an edited column can neither forge a
view (a row shown under another actor) nor pass unnoticed: `VerifyChain` scans every row the
same way and names the event (INDEX_MISMATCH). A column edited to hide an event from a
filter is found by that scan, since a hidden row is never returned to be checked.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.audit.adapters.converters import event_from_bytes, row_from_event
from services.audit.adapters.tables import audit_events

log = logging.getLogger("consilium.audit")

INDEXED = (
    "producer",
    "sequence",
    "event_id",
    "occurred_at_us",
    "actor_id",
    "actor_role",
    "subject_id",
    "subject_kind",
    "action",
    "decision",
    "trace_id",
)


def mismatched_columns(row: Any) -> list[str]:
    """The indexed columns of `row` (with `data`) that its signed event does not support."""
    try:
        derived = row_from_event(event_from_bytes(row.data))
    except Exception:  # undecodable bytes support no column
        return ["data"]
    return [name for name in INDEXED if getattr(row, name) != derived[name]]


class SqlIndexAudit:
    """Scans a producer's rows for columns that disagree with their events."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def mismatches(self, producer: str) -> list[tuple[int, str, list[str]]]:
        """(sequence, event id, columns) of every disagreeing row, by sequence."""
        t = audit_events
        columns = [getattr(t.c, name) for name in INDEXED]
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(*columns, t.c.data)
                    .where(t.c.producer == producer)
                    .order_by(t.c.sequence)
                )
            ).all()
        found = []
        for row in rows:
            bad = mismatched_columns(row)
            if bad:
                found.append((int(row.sequence), str(row.event_id), bad))
        return found
