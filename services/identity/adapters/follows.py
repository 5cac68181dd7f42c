"""Community follows per person: the rows behind the following feed, deleted on erasure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.adapters.tables import community_follows as follows


class FollowQueries:
    """The follow part of `PhysicianRepository`, over the repository's session."""

    _session: AsyncSession

    async def followed(self, user_id: str) -> list[str]:
        rows = await self._session.execute(
            select(follows.c.community_id)
            .where(follows.c.user_id == user_id)
            .order_by(follows.c.followed_at, follows.c.community_id)
        )
        return [community_id for (community_id,) in rows]

    async def count_follows(self, user_id: str) -> int:
        count = await self._session.scalar(
            select(func.count()).select_from(follows).where(follows.c.user_id == user_id)
        )
        return int(count or 0)

    async def follow(self, user_id: str, community_id: str, now: datetime) -> None:
        try:
            async with self._session.begin_nested():
                await self._session.execute(
                    insert(follows).values(
                        user_id=user_id, community_id=community_id, followed_at=now
                    )
                )
        except IntegrityError:
            pass  # followed already (or concurrently): the same outcome

    async def unfollow(self, user_id: str, community_id: str) -> None:
        await self._session.execute(
            delete(follows).where(
                follows.c.user_id == user_id, follows.c.community_id == community_id
            )
        )

    async def forget_follows(self, user_id: str) -> None:
        await self._session.execute(delete(follows).where(follows.c.user_id == user_id))
