"""Moderation state per alias id: hidden (suspended or hidden by a moderator) and orphaned."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.content.adapters.tables import comments, hidden_aliases, orphaned_aliases, posts


class AliasStateQueries:
    """The alias-level part of `ContentRepository`, over the repository's session."""

    _session: AsyncSession

    async def set_aliases_hidden(
        self, alias_ids: Sequence[str], hidden: bool, now: datetime
    ) -> tuple[int, int]:
        already = set(
            (
                await self._session.scalars(
                    select(hidden_aliases.c.alias_id).where(
                        hidden_aliases.c.alias_id.in_(alias_ids)
                    )
                )
            ).all()
        )
        changing = [a for a in alias_ids if (a not in already) == hidden]
        if not changing:
            return 0, 0
        if hidden:
            await self._session.execute(
                insert(hidden_aliases), [{"alias_id": a, "hidden_at": now} for a in changing]
            )
        else:
            await self._session.execute(
                delete(hidden_aliases).where(hidden_aliases.c.alias_id.in_(changing))
            )
        post_count = await self._session.scalar(
            select(func.count()).where(posts.c.author_alias_id.in_(changing))
        )
        comment_count = await self._session.scalar(
            select(func.count()).where(comments.c.author_alias_id.in_(changing))
        )
        return int(post_count or 0), int(comment_count or 0)

    async def mark_orphaned(self, alias_id: str, now: datetime) -> bool:
        if await self.orphaned([alias_id]):
            return False
        await self._session.execute(
            insert(orphaned_aliases).values(alias_id=alias_id, orphaned_at=now)
        )
        return True

    async def orphaned(self, alias_ids: Sequence[str]) -> set[str]:
        if not alias_ids:
            return set()
        found = await self._session.scalars(
            select(orphaned_aliases.c.alias_id).where(orphaned_aliases.c.alias_id.in_(alias_ids))
        )
        return set(found.all())
