"""Anonymity's audit chain: numbers, links and signs each event inside the caller's transaction.

The chain row (tables.audit_chain) is advanced first, with `UPDATE ... SET sequence =
sequence + 1 RETURNING`: the update takes the row lock (PostgreSQL) or the database write
lock (SQLite) before anything is read, so a concurrent transaction waits, then sees the
committed sequence and hash. The lock is held to commit, so sequences are unique and
gap-free, events enter the outbox in chain order, and a rollback gives the number back.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from consilium.audit.v1 import audit_pb2 as apb
from plumbing.auditchain import link
from plumbing.auditkeys import AuditSigningKey
from services.anonymity.adapters.event_converters import PRODUCER
from services.anonymity.adapters.tables import audit_chain


class AuditChainError(Exception):
    """The chain row is missing: the migrations did not run, or someone deleted it."""


class AuditChain:
    """Links events as `producer`'s next ones, signed with `key`."""

    def __init__(self, key: AuditSigningKey, *, producer: str = PRODUCER) -> None:
        self._key = key
        self._producer = producer

    @property
    def key_id(self) -> str:
        return self._key.key_id

    async def append(self, session: AsyncSession, event: apb.AuditEvent) -> int:
        """Fills `event`'s chain fields as the next event; returns its sequence.

        Run it in the transaction that queues `event`, so both commit or neither does.
        """
        where = audit_chain.c.producer == self._producer
        advanced = await session.execute(
            update(audit_chain)
            .where(where)
            .values(sequence=audit_chain.c.sequence + 1)
            .returning(audit_chain.c.sequence, audit_chain.c.last_hash)
        )
        row = advanced.first()
        if row is None:
            # Starting a new chain at 1 would repeat sequences the ledger already holds.
            raise AuditChainError(
                f"no audit chain row for producer {self._producer!r}: run the anonymity "
                "migrations; never recreate the row by hand"
            )
        sequence = int(row.sequence)
        digest = link(
            event,
            sequence=sequence,
            prev_hash=bytes(row.last_hash),
            key=self._key.private_key,
            key_id=self._key.key_id,
        )
        await session.execute(update(audit_chain).where(where).values(last_hash=digest))
        return sequence
