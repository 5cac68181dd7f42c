"""A signed-in person reads their own index: notifications (with what is unread) and activity.

Only the person themself: the caller must be `user_id`. The index is found by keys derived from
their data key, so reading it touches their rows and no one else's, and needs no scan. Entries
carry ids only; opening an item is an ordinary one-post query at the gateway, so content is
never asked for one person's items together.
"""

from __future__ import annotations

from dataclasses import dataclass

from plumbing.auth import AccessClaims
from plumbing.errors import FieldViolation, InvalidArgument
from services.anonymity.domain.inbox import (
    PersonIndex,
    Positioned,
    Stream,
    count,
    decode_cursor,
    encode_cursor,
)
from services.anonymity.ports import AliasRepository, AnonymityStore
from services.anonymity.service import require_self
from services.anonymity.vault import Vault

DEFAULT_PAGE = 20
MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class IndexPage:
    entries: list[Positioned]
    next_token: str
    total: int
    #: Notifications only: the position up to which the person has read.
    read_up_to: int = 0

    @property
    def unread(self) -> int:
        return max(self.total - self.read_up_to, 0)


class IndexReads:
    """ListNotifications, MarkNotificationsRead and ListActivity."""

    def __init__(self, store: AnonymityStore, vault: Vault) -> None:
        self._store = store
        self._vault = vault

    async def notifications(
        self, caller: AccessClaims | None, user_id: str, size: int, token: str
    ) -> IndexPage:
        return await self._page(caller, user_id, Stream.NOTIFICATIONS, size, token)

    async def activity(
        self, caller: AccessClaims | None, user_id: str, size: int, token: str
    ) -> IndexPage:
        return await self._page(caller, user_id, Stream.ACTIVITY, size, token)

    async def mark_read(self, caller: AccessClaims | None, user_id: str, up_to: str) -> int:
        """Marks notifications read up to the one of cursor `up_to` (all when empty);
        returns how many stay unread. Never moves the mark back."""
        require_self(caller, user_id)
        wanted = _position(up_to, "up_to") if up_to else None
        async with self._store.transaction() as repo:
            index = await self._index(repo, user_id)
            if index is None:
                return 0
            total = await _count(repo, index, Stream.NOTIFICATIONS)
            read = await _read_mark(repo, index)
            new = max(read, min(total if wanted is None else wanted, total))
            if new != read:
                key = index.marker_key(Stream.NOTIFICATIONS)
                await repo.index.put(key, index.seal_marker(key, new))
            return total - new

    async def _page(
        self, caller: AccessClaims | None, user_id: str, stream: Stream, size: int, token: str
    ) -> IndexPage:
        require_self(caller, user_id)
        if size < 0 or size > MAX_PAGE:
            raise InvalidArgument([FieldViolation("page_size", f"between 1 and {MAX_PAGE}")])
        size = size or DEFAULT_PAGE
        before = _position(token, "page_token") if token else None
        async with self._store.transaction() as repo:
            index = await self._index(repo, user_id)
            if index is None:
                return IndexPage([], "", 0)
            total = await _count(repo, index, stream)
            read = await _read_mark(repo, index) if stream is Stream.NOTIFICATIONS else 0
            start = total if before is None else min(before - 1, total)
            positions = list(range(start, max(start - size, 0), -1))
            keys = {index.row_key(stream, p): p for p in positions}
            found = await repo.index.get(keys)
        entries = [Positioned(keys[k], index.open(k, blob)) for k, blob in found.items()]
        entries.sort(key=lambda e: e.position, reverse=True)
        last = positions[-1] if positions else 0
        next_token = encode_cursor(last) if last > 1 else ""
        return IndexPage(entries, next_token, total, read)

    async def _index(self, repo: AliasRepository, user_id: str) -> PersonIndex | None:
        key = await repo.get_user_key(self._vault.owner_index(user_id))
        return PersonIndex(self._vault.data_key(key)) if key is not None else None


async def _count(repo: AliasRepository, index: PersonIndex, stream: Stream) -> int:
    return await count(lambda p: repo.index.has(index.row_key(stream, p)))


async def _read_mark(repo: AliasRepository, index: PersonIndex) -> int:
    key = index.marker_key(Stream.NOTIFICATIONS)
    blob = (await repo.index.get([key])).get(key)
    return index.open_marker(key, blob) if blob is not None else 0


def _position(token: str, field: str) -> int:
    try:
        return decode_cursor(token)
    except ValueError:
        raise InvalidArgument([FieldViolation(field, "pass a cursor this API gave you")]) from None


def cursor_of(entry: Positioned) -> str:
    return encode_cursor(entry.position)
