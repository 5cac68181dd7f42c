"""Anonymity's audit chain: numbers, links and signs each event inside the caller's transaction
(the mechanism is plumbing.auditchain_row, shared with identity)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from consilium.audit.v1 import audit_pb2 as apb
from plumbing.auditchain_row import AuditChainError, ChainRow
from plumbing.auditkeys import AuditSigningKey
from services.anonymity.adapters.event_converters import PRODUCER
from services.anonymity.adapters.tables import audit_chain

__all__ = ["AuditChain", "AuditChainError"]


class AuditChain:
    """Links events as `producer`'s next ones, signed with `key`."""

    def __init__(self, key: AuditSigningKey, *, producer: str = PRODUCER) -> None:
        self._row = ChainRow(audit_chain, producer, key)

    @property
    def key_id(self) -> str:
        return self._row.key_id

    async def append(self, session: AsyncSession, event: apb.AuditEvent) -> int:
        """Fills `event`'s chain fields as the next event; returns its sequence.

        Run it in the transaction that queues `event`, so both commit or neither does.
        """
        return await self._row.append(session, [event])
