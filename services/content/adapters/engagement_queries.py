"""Reactions and poll votes per alias id: counts and per-post participant pages, and writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.content.adapters import statements as sql
from services.content.adapters.statements import Executor
from services.content.adapters.tables import poll_votes, reactions
from services.content.domain.engagement import ReactionKind


class EngagementReads:
    """The engagement reads, over a session or a bare connection (`SqlContentReader`)."""

    _session: Executor

    async def reaction_counts(self, post_ids: Sequence[str]) -> dict[str, dict[ReactionKind, int]]:
        counts: dict[str, dict[ReactionKind, int]] = {}
        if not post_ids:
            return counts
        rows = await self._session.execute(sql.REACTION_COUNTS, {"ids": list(post_ids)})
        for post_id, kind, count in rows.all():
            counts.setdefault(post_id, {})[ReactionKind(kind)] = int(count)
        return counts

    async def post_reaction_counts(
        self, post_ids: Sequence[str]
    ) -> dict[str, dict[ReactionKind, int]]:
        counts: dict[str, dict[ReactionKind, int]] = {}
        if not post_ids:
            return counts
        rows = await self._session.execute(sql.POST_REACTION_COUNTS, {"ids": list(post_ids)})
        for post_id, kind, count in rows.all():
            of_post = counts.setdefault(post_id, {})
            if kind is not None:
                of_post[ReactionKind(kind)] = int(count)
        return counts

    async def reactions_by(
        self, post_ids: Sequence[str], alias_ids: Sequence[str]
    ) -> dict[str, ReactionKind]:
        if not post_ids or not alias_ids:
            return {}
        rows = await self._session.execute(
            select(reactions.c.post_id, reactions.c.kind)
            .where(reactions.c.post_id.in_(post_ids))
            .where(reactions.c.reactor_alias_id.in_(alias_ids))
            .order_by(reactions.c.reacted_at)
        )
        # A viewer with several aliases on one post: the latest reaction is theirs.
        return {post_id: ReactionKind(kind) for post_id, kind in rows.all()}

    async def reactors(
        self, post_ids: Sequence[str], after: str, limit: int
    ) -> dict[str, list[tuple[str, ReactionKind]]]:
        found: dict[str, list[tuple[str, ReactionKind]]] = {}
        rows = await self._first_per_post(sql.REACTORS, post_ids, after, limit)
        for post_id, alias_id, kind in rows:
            found.setdefault(post_id, []).append((alias_id, ReactionKind(kind)))
        return found

    async def voters(self, post_ids: Sequence[str], after: str, limit: int) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        rows = await self._first_per_post(sql.VOTERS, post_ids, after, limit)
        for post_id, alias_id, _ in rows:
            found.setdefault(post_id, []).append(alias_id)
        return found

    async def _first_per_post(
        self, query: Any, post_ids: Sequence[str], after: str, limit: int
    ) -> list[Any]:
        """The first `limit` rows per post by alias id (one query: a window over the posts)."""
        if not post_ids:
            return []
        params = {"ids": list(post_ids), "after": after, "limit": limit}
        return list((await self._session.execute(query, params)).all())

    async def vote_tallies(self, post_ids: Sequence[str]) -> dict[str, dict[int, int]]:
        tallies: dict[str, dict[int, int]] = {}
        if not post_ids:
            return tallies
        rows = await self._session.execute(sql.VOTE_TALLIES, {"ids": list(post_ids)})
        for post_id, option, count in rows.all():
            tallies.setdefault(post_id, {})[int(option)] = int(count)
        return tallies


class EngagementQueries(EngagementReads):
    """The engagement part of `ContentRepository`, over the repository's session."""

    _session: AsyncSession

    async def set_reaction(
        self, post_id: str, alias_id: str, kind: ReactionKind, now: datetime
    ) -> None:
        # Delete then insert: one portable upsert for SQLite and PostgreSQL.
        await self.remove_reaction(post_id, alias_id)
        await self._session.execute(
            insert(reactions).values(
                post_id=post_id, reactor_alias_id=alias_id, kind=kind.value, reacted_at=now
            )
        )

    async def remove_reaction(self, post_id: str, alias_id: str) -> None:
        await self._session.execute(
            delete(reactions).where(
                reactions.c.post_id == post_id, reactions.c.reactor_alias_id == alias_id
            )
        )

    async def add_vote(self, post_id: str, voter_alias_id: str, option: int, now: datetime) -> bool:
        try:
            async with self._session.begin_nested():
                await self._session.execute(
                    insert(poll_votes).values(
                        post_id=post_id,
                        voter_alias_id=voter_alias_id,
                        option_index=option,
                        voted_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True
