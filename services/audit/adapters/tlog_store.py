"""The transparency log in SQL: leaves, checkpoints, and the ledger's events by sequence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from consilium.audit.v1 import audit_pb2 as pb
from plumbing.tlog import Checkpoint
from services.audit.adapters.converters import event_from_bytes
from services.audit.adapters.tables import audit_conflicts, audit_events
from services.audit.adapters.tlog_tables import tlog_checkpoints, tlog_leaves
from services.audit.transparency import Leaf, SignedCheckpoint, StoredEvent


class SqlLogStore:
    """Implements `transparency.LogStore`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def leaves(self, producer: str) -> list[Leaf]:
        t = tlog_leaves
        statement = (
            select(t.c.event_id, t.c.leaf_hash, t.c.chain_hash)
            .where(t.c.producer == producer)
            .order_by(t.c.leaf_index)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return [Leaf(r.event_id, bytes(r.leaf_hash), bytes(r.chain_hash)) for r in rows]

    async def add_leaves(self, producer: str, start: int, leaves: Sequence[Leaf]) -> None:
        rows = [
            {
                "producer": producer,
                "leaf_index": start + offset,
                "event_id": leaf.event_id,
                "leaf_hash": leaf.leaf_hash,
                "chain_hash": leaf.chain_hash,
            }
            for offset, leaf in enumerate(leaves)
        ]
        async with self._engine.begin() as conn:
            await conn.execute(insert(tlog_leaves), rows)

    async def events_after(self, producer: str, sequence: int, limit: int) -> list[StoredEvent]:
        t = audit_events
        statement = (
            select(t.c.data)
            .where(t.c.producer == producer, t.c.sequence > sequence)
            .order_by(t.c.sequence)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            stored = (await conn.scalars(statement)).all()
        return [StoredEvent(bytes(data), event_from_bytes(data)) for data in stored]

    async def rotations(self, producer: str) -> list[StoredEvent]:
        t = audit_events
        statement = (
            select(t.c.data)
            .where(t.c.producer == producer, t.c.action == pb.Action.Name(pb.ACTION_KEY_ROTATED))
            .order_by(t.c.sequence)
        )
        async with self._engine.connect() as conn:
            stored = (await conn.scalars(statement)).all()
        return [StoredEvent(bytes(data), event_from_bytes(data)) for data in stored]

    async def locate(self, event_id: str) -> tuple[str, int] | None:
        t = audit_events
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(t.c.producer, t.c.sequence).where(t.c.event_id == event_id)
                )
            ).first()
        return (row.producer, int(row.sequence)) if row is not None else None

    async def newest_checkpoint(self, producer: str) -> SignedCheckpoint | None:
        t = tlog_checkpoints
        statement = (
            select(t.c.note).where(t.c.producer == producer).order_by(t.c.tree_size.desc()).limit(1)
        )
        async with self._engine.connect() as conn:
            note: str | None = await conn.scalar(statement)
        if note is None:
            return None
        # What the note says, not the columns beside it: those only index it.
        body = note.split("\n\n", 1)[0] + "\n"
        return SignedCheckpoint(Checkpoint.parse(body), note)

    async def checkpoint_note(self, producer: str, size: int) -> str | None:
        t = tlog_checkpoints
        async with self._engine.connect() as conn:
            note: str | None = await conn.scalar(
                select(t.c.note).where(t.c.producer == producer, t.c.tree_size == size)
            )
        return note

    async def add_checkpoint(self, producer: str, signed: SignedCheckpoint) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(tlog_checkpoints).values(
                        producer=producer,
                        tree_size=signed.checkpoint.size,
                        root_hash=signed.checkpoint.root_hash,
                        note=signed.note,
                        signed_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            # Another ledger replica signed the same size first. Ed25519 is deterministic and
            # the replicas share the checkpoint key, so the stored note is this one: keep it.
            stored = await self.checkpoint_note(producer, signed.checkpoint.size)
            if stored != signed.note:
                raise

    async def producers(self) -> list[str]:
        statement = select(audit_events.c.producer).distinct().order_by(audit_events.c.producer)
        async with self._engine.connect() as conn:
            return list((await conn.scalars(statement)).all())

    async def conflicts(self, producer: str) -> list[pb.AuditEvent]:
        c = audit_conflicts
        statement = select(c.c.data).where(c.c.producer == producer).order_by(c.c.sequence)
        async with self._engine.connect() as conn:
            return [event_from_bytes(d) for d in (await conn.scalars(statement)).all()]
