"""Identity's erasure journal: the erasure log (plumbing.erasurelog) keyed by audit tags.

Each erased person is logged as their audit blind tag (HMAC of the user id under the audit
tag key), the same tag the ledger shows for them, so the log adds no new way to name anyone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from plumbing.erasurelog import ErasureLog, replay


class TaggedErasureJournal:
    """Implements `ErasureJournal` over an `ErasureLog` and a tag function."""

    def __init__(self, log: ErasureLog, tag: Callable[[str], str]) -> None:
        self._log = log
        self._tag = tag

    async def record(self, user_id: str) -> None:
        await self._log.record(self._tag(user_id))

    async def replay(self, user_ids: Iterable[str], erase: Callable[[str], Awaitable[None]]) -> int:
        return await replay(self._log, ((self._tag(u), u) for u in user_ids), erase)
