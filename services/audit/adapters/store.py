"""The ledger in SQL: appended by the consumer, read by queries and verification."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from consilium.audit.v1 import audit_pb2 as pb
from services.audit.adapters.converters import event_from_bytes, row_from_event
from services.audit.adapters.index_check import INDEXED, mismatched_columns
from services.audit.adapters.tables import audit_conflicts, audit_events
from services.audit.domain.query import Cursor, EventFilter, micros
from services.audit.ports import Page

log = logging.getLogger("consilium.audit")


async def append(session: AsyncSession, event: pb.AuditEvent) -> bool:
    """Stores `event` in the caller's transaction; False when it was stored already.

    A different event claiming a (producer, sequence) that is taken goes to the conflicts
    table, so verification reports the duplicate instead of the ledger silently keeping one.
    """
    t = audit_events
    if await session.scalar(select(t.c.event_id).where(t.c.event_id == event.event_id)):
        return False
    now = datetime.now(UTC)
    data = event.SerializeToString(deterministic=True)
    holder = await session.scalar(
        select(t.c.event_id).where(t.c.producer == event.producer, t.c.sequence == event.sequence)
    )
    if holder is not None:
        c = audit_conflicts
        if await session.scalar(select(c.c.event_id).where(c.c.event_id == event.event_id)):
            return False
        log.warning(
            "audit: %s event %d claimed by two events; kept both for verification",
            event.producer,
            event.sequence,
        )
        await session.execute(
            insert(c).values(
                event_id=event.event_id,
                producer=event.producer,
                sequence=event.sequence,
                data=data,
                recorded_at=now,
            )
        )
        return True
    await session.execute(insert(t).values(**row_from_event(event), data=data, recorded_at=now))
    return True


def _conditions(where: EventFilter) -> list[Any]:
    t = audit_events
    conditions: list[Any] = []
    if where.subject_id:
        subjects = {where.subject_id, where.subject_tag} - {""}
        conditions.append(t.c.subject_id.in_(sorted(subjects)))
    for column, value in (
        (t.c.actor_id, where.actor_id),
        (t.c.decision, where.decision),
        (t.c.trace_id, where.trace_id),
        (t.c.producer, where.producer),
    ):
        if value:
            conditions.append(column == value)
    if where.actions:
        conditions.append(t.c.action.in_(sorted(where.actions)))
    if where.occurred_after is not None:
        conditions.append(t.c.occurred_at_us >= micros(where.occurred_after))
    if where.occurred_before is not None:
        conditions.append(t.c.occurred_at_us < micros(where.occurred_before))
    return conditions


def _supported(row: Any) -> bool:
    """Whether the signed event supports every indexed column the filter matched it on."""
    bad = mismatched_columns(row)
    if bad:
        log.warning(
            "audit: event %s has indexed columns its signed bytes do not support (%s); not served",
            row.event_id,
            ", ".join(bad),
        )
    return not bad


class SqlLedger:
    """Implements `Ledger`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def query(self, where: EventFilter, *, after: Cursor | None, limit: int) -> Page:
        t = audit_events
        conditions = _conditions(where)
        if after is not None:
            conditions.append(
                or_(
                    t.c.occurred_at_us > after.occurred_at_us,
                    and_(t.c.occurred_at_us == after.occurred_at_us, t.c.event_id > after.event_id),
                )
            )
        statement = (
            select(*(getattr(t.c, name) for name in INDEXED), t.c.data)
            .where(*conditions)
            .order_by(t.c.occurred_at_us, t.c.event_id)
            .limit(limit + 1)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if more else None
        return Page(
            events=[event_from_bytes(row.data) for row in rows if _supported(row)],
            next=Cursor(last.occurred_at_us, last.event_id) if last is not None else None,
        )

    async def producers(self) -> list[str]:
        statement = select(audit_events.c.producer).distinct().order_by(audit_events.c.producer)
        async with self._engine.connect() as conn:
            return list((await conn.scalars(statement)).all())

    async def chain(self, producer: str) -> Sequence[pb.AuditEvent]:
        async with self._engine.connect() as conn:
            stored = await conn.scalars(
                select(audit_events.c.data).where(audit_events.c.producer == producer)
            )
            events = [event_from_bytes(data) for data in stored.all()]
            conflicting = await conn.scalars(
                select(audit_conflicts.c.data).where(audit_conflicts.c.producer == producer)
            )
            events.extend(event_from_bytes(data) for data in conflicting.all())
        return events

    async def rotations(self, producer: str) -> Sequence[pb.AuditEvent]:
        t = audit_events
        statement = (
            select(t.c.data)
            .where(t.c.producer == producer, t.c.action == pb.Action.Name(pb.ACTION_KEY_ROTATED))
            .order_by(t.c.sequence)
        )
        async with self._engine.connect() as conn:
            return [event_from_bytes(data) for data in (await conn.scalars(statement)).all()]
