"""The audit use cases: query the ledger and verify its chains, for auditors only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from plumbing.auditchain import ChainVerdict, verify_chain
from plumbing.auth.claims import AccessClaims
from services.audit.checks import LedgerChecks
from services.audit.domain.query import Cursor, EventFilter, page_size, require_auditor
from services.audit.ports import Ledger, Page, TrustedKeys


@dataclass(frozen=True, slots=True)
class ChainReport:
    """One producer's chain and what verification found in it."""

    producer: str
    verdict: ChainVerdict
    log_size: int = 0


class AuditService:
    """`tag` computes the blind tag identity records for a user id (plumbing.auditlink), so
    an auditor asking by user id also finds identity's events, which name no user id."""

    def __init__(
        self,
        ledger: Ledger,
        keys: TrustedKeys,
        checks: LedgerChecks | None = None,
        *,
        tag: Callable[[str], str] | None = None,
    ) -> None:
        self._ledger = ledger
        self._keys = keys
        self._checks = checks
        self._tag = tag

    async def query(
        self, caller: AccessClaims | None, where: EventFilter, *, size: int, page_token: str
    ) -> Page:
        """One page of matching events, oldest first; `size` is clamped (see page_size)."""
        require_auditor(caller)
        after = Cursor.decode(page_token) if page_token else None
        if where.subject_id and self._tag is not None:
            where = replace(where, subject_tag=self._tag(where.subject_id))
        page = await self._ledger.query(where, after=after, limit=page_size(size))
        if self._checks is None:
            return page
        # Served only when the event verifies on its own (hash, signature by a pinned key, or
        # by a key its producer rotated to in a KEY_ROTATED event signed with a pinned one).
        checks = self._checks
        keys = await self._keys.keys({str(e.key_id) for e in page.events})
        rotated: dict[str, dict[str, Ed25519PublicKey]] = {}
        for producer in {e.producer for e in page.events if not checks.admissible(e, keys)}:
            rotations = await self._ledger.rotations(producer)
            rotated[producer] = checks.rotated_keys(producer, rotations, keys)
        return Page(
            [e for e in page.events if checks.admissible(e, keys, rotated.get(e.producer))],
            page.next,
        )

    async def verify(self, caller: AccessClaims | None, producer: str = "") -> list[ChainReport]:
        """A report per producer (just `producer` when given), ordered by producer.

        Without configured producers, an unknown producer gets an empty, ok report; with
        them, every configured producer is reported, a MISSING one included.
        """
        require_auditor(caller)
        stored = await self._ledger.producers()
        producers = [producer] if producer else stored
        if self._checks is not None and not producer:
            producers = self._checks.producers(stored)
        # Logs first, chains after: every event a log holds then is in the chain read next,
        # while events arriving meanwhile are simply not judged yet.
        sizes = {}
        if self._checks is not None:
            sizes = {name: await self._checks.tlog.advance(name) for name in producers}
        chains = {name: await self._ledger.chain(name) for name in producers}
        signers: dict[str, set[str]] = defaultdict(set)
        if self._checks is not None:
            for other in stored:
                for event in chains.get(other) or await self._ledger.chain(other):
                    signers[str(event.key_id)].add(other)
        reports = []
        for name, events in chains.items():
            keys = await self._keys.keys({str(e.key_id) for e in events})
            verdict = verify_chain(events, keys)
            size = 0
            if self._checks is not None:
                extra, size = await self._checks.problems(
                    name, events, signers, verdict.rotated_keys, size=sizes[name]
                )
                verdict.problems.extend(extra)
            reports.append(ChainReport(name, verdict, size))
        return reports
