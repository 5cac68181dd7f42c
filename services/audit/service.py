"""The audit use cases: query the ledger and verify its chains, for auditors only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from plumbing.auditchain import ChainVerdict, verify_chain
from plumbing.auth.claims import AccessClaims
from services.audit.domain.query import Cursor, EventFilter, page_size, require_auditor
from services.audit.ports import Ledger, Page, TrustedKeys


@dataclass(frozen=True, slots=True)
class ChainReport:
    """One producer's chain and what verification found in it."""

    producer: str
    verdict: ChainVerdict


class AuditService:
    """`tag` computes the blind tag identity records for a user id (plumbing.auditlink), so
    an auditor asking by user id also finds identity's events, which name no user id."""

    def __init__(
        self, ledger: Ledger, keys: TrustedKeys, *, tag: Callable[[str], str] | None = None
    ) -> None:
        self._ledger = ledger
        self._keys = keys
        self._tag = tag

    async def query(
        self, caller: AccessClaims | None, where: EventFilter, *, size: int, page_token: str
    ) -> Page:
        """One page of matching events, oldest first; `size` is clamped (see page_size)."""
        require_auditor(caller)
        after = Cursor.decode(page_token) if page_token else None
        if where.subject_id and self._tag is not None:
            where = replace(where, subject_tag=self._tag(where.subject_id))
        return await self._ledger.query(where, after=after, limit=page_size(size))

    async def verify(self, caller: AccessClaims | None, producer: str = "") -> list[ChainReport]:
        """A report per producer (just `producer` when given), ordered by producer.

        An unknown producer gets an empty, ok report: nothing recorded, nothing broken.
        """
        require_auditor(caller)
        producers = [producer] if producer else await self._ledger.producers()
        reports = []
        for name in producers:
            events = await self._ledger.chain(name)
            keys = await self._keys.keys({str(e.key_id) for e in events})
            reports.append(ChainReport(name, verify_chain(events, keys)))
        return reports
