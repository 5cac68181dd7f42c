"""A producer's place in its audit chain, kept in its own database and advanced under a lock.

Each producer (identity, anonymity) has one row `(producer, sequence, last_hash)` in a table of
that shape. Appending advances it first, with `UPDATE ... SET sequence = sequence + n
RETURNING`: the update takes the row lock (PostgreSQL) or the database write lock (SQLite)
before anything is read, so a concurrent transaction waits, then sees the committed sequence
and hash. The lock is held to commit, so sequences are unique and gap-free, events enter the
outbox in chain order, and a rollback gives the numbers back. A batch of n events advances the
row once by n: two statements whatever the batch size. The hashing and signing are
`plumbing.auditchain.link`.

When the table has a `key_id` column, it names the key signing the chain now: a process
holding another key refuses to sign (after a rotation, a replica still on the old key fails
closed instead of writing events every verifier rejects), and a null is set to this key.
Rotation itself is `plumbing.auditrotation`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.ext.asyncio import AsyncSession

from plumbing.auditchain import link
from plumbing.auditkeys import AuditSigningKey

#: Runs under the lock, after the numbers are taken and before the events are hashed.
Prepare = Callable[[AsyncSession, Sequence[Any]], Awaitable[None]]


class AuditChainError(Exception):
    """The chain row is missing: the migrations did not run, or someone deleted it."""


class ChainRow:
    """Links events as `producer`'s next ones in `table`, signed with `key`."""

    def __init__(self, table: Table, producer: str, key: AuditSigningKey) -> None:
        self._table = table
        self._producer = producer
        self._key = key

    @property
    def key_id(self) -> str:
        return self._key.key_id

    async def lock(self, session: AsyncSession) -> None:
        """Takes the chain's lock now, held to commit, before the unit reads anything.

        For units that must read first to know what their event will say: the lock comes
        first, as in `append`, so every unit takes the locks in one order.
        """
        table = self._table
        locked = await session.execute(
            update(table)
            .where(table.c.producer == self._producer)
            .values(sequence=table.c.sequence)
            .returning(table.c.sequence)
        )
        if locked.first() is None:
            raise self._missing()

    async def append(
        self, session: AsyncSession, events: Sequence[Any], *, prepare: Prepare | None = None
    ) -> int:
        """Fills `events`' chain fields as the next ones, in order; returns the last sequence.

        Run it in the transaction that queues `events`, so all commit or none does.
        """
        if not events:
            raise ValueError("nothing to append")
        table = self._table
        where = table.c.producer == self._producer
        keyed = "key_id" in table.c
        advanced = await session.execute(
            update(table)
            .where(where)
            .values(sequence=table.c.sequence + len(events))
            .returning(table.c.sequence, table.c.last_hash, *([table.c.key_id] if keyed else []))
        )
        row = advanced.first()
        if row is None:
            # Starting a new chain at 1 would repeat sequences the ledger already holds.
            raise self._missing()
        if keyed and row.key_id is not None and row.key_id != self._key.key_id:
            raise AuditChainError(
                f"the {self._producer} audit chain is signed with key {row.key_id} (rotated); "
                f"this process holds {self._key.key_id}: restart it with the current key"
            )
        if prepare is not None:
            await prepare(session, events)
        last = int(row.sequence)
        digest = bytes(row.last_hash)
        for sequence, event in enumerate(events, start=last - len(events) + 1):
            digest = link(
                event,
                sequence=sequence,
                prev_hash=digest,
                key=self._key.private_key,
                key_id=self._key.key_id,
            )
        values: dict[str, Any] = {"last_hash": digest}
        if keyed:
            values["key_id"] = self._key.key_id
        await session.execute(update(table).where(where).values(**values))
        return last

    def _missing(self) -> AuditChainError:
        return AuditChainError(
            f"no audit chain row for producer {self._producer!r}: run the {self._producer} "
            "migrations; never recreate the row by hand"
        )
