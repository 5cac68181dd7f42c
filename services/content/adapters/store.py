"""The content store on SQLAlchemy Core: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    insert,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from plumbing.db import session_factory, transaction
from plumbing.events.outbox import add_to_outbox
from services.content.adapters import statements as sql
from services.content.adapters.alias_state import AliasStateQueries
from services.content.adapters.engagement_queries import EngagementQueries
from services.content.adapters.post_events import comment_created, post_created
from services.content.adapters.report_queries import ReportQueries
from services.content.adapters.revision_queries import RevisionQueries
from services.content.adapters.rows import comment_from, post_from, post_row
from services.content.adapters.search import FullTextSearch, full_text_for
from services.content.adapters.tables import (
    comments,
    communities,
    event_tables,
    posts,
)
from services.content.domain.feeds import FeedFilter
from services.content.domain.paging import Cursor
from services.content.domain.posts import Comment, Community, Post


def _feed_params(where: FeedFilter, after: Cursor | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if where.community_ids is not None:
        params["community_ids"] = list(where.community_ids)
    if where.case_status is not None:
        params["case_status"] = where.case_status.value
    if after is not None:
        params |= {"created_at": after.created_at, "row_id": after.row_id}
    return params


class SqlContentRepository(AliasStateQueries, EngagementQueries, RevisionQueries, ReportQueries):
    """`ContentRepository` over one SQLAlchemy session (one transaction)."""

    def __init__(self, session: AsyncSession, search: FullTextSearch) -> None:
        self._session = session
        self._search = search
        #: Whether this unit of work queued events (the relay is told after the commit).
        self.announced = False

    async def list_communities(self) -> list[Community]:
        rows = await self._session.execute(select(communities).order_by(communities.c.name))
        return [Community(r.community_id, r.name, r.description) for r in rows]

    async def get_communities(self, community_ids: Sequence[str]) -> dict[str, Community]:
        if not community_ids:
            return {}
        rows = await self._session.execute(
            select(communities).where(communities.c.community_id.in_(community_ids))
        )
        return {r.community_id: Community(r.community_id, r.name, r.description) for r in rows}

    async def add_post(self, post: Post) -> Post:
        try:
            async with self._session.begin_nested():
                await self._session.execute(insert(posts).values(**post_row(post)))
        except IntegrityError:
            # Only the (author, request id) key can clash: ids are random, the community
            # was checked in this transaction. A retry of the same request won the race.
            earlier = await self._by_request(
                posts, sql.POSTS, post.author_alias_id, post.request_id
            )
            if earlier is None:
                raise
            return post_from(earlier)
        return post

    async def _by_request(self, table: Any, query: Select[Any], alias: str, request: str) -> Any:
        if not request:
            return None
        found = await self._session.execute(
            query.where(table.c.author_alias_id == alias, table.c.request_id == request)
        )
        return found.first()

    async def get_posts(self, post_ids: Sequence[str]) -> dict[str, Post]:
        if not post_ids:
            return {}
        rows = await self._session.execute(sql.POSTS_BY_ID, {"ids": list(post_ids)})
        return {row.post_id: post_from(row) for row in rows}

    async def get_post(self, post_id: str, *, for_update: bool = False) -> Post | None:
        query = sql.POST_FOR_UPDATE if for_update else sql.POST
        row = (await self._session.execute(query, {"post_id": post_id})).first()
        return post_from(row) if row else None

    async def list_posts(self, where: FeedFilter, after: Cursor | None, limit: int) -> list[Post]:
        query = sql.feed_page(
            communities=where.community_ids is not None,
            status=where.case_status is not None,
            cursor=after is not None,
        )
        params = _feed_params(where, after) | {"limit": limit}
        return [post_from(row) for row in await self._session.execute(query, params)]

    async def search_posts(
        self, text: str, where: FeedFilter, after: Cursor | None, limit: int
    ) -> list[tuple[Post, float]]:
        matches = self._search.matches(text)
        if matches is None:
            return []
        query = sql.shown(
            sql.POSTS.add_columns(matches.c.score).join(
                matches, matches.c.post_id == posts.c.post_id
            ),
            communities=where.community_ids is not None,
            status=where.case_status is not None,
        )
        if after is not None:
            query = query.where(
                or_(
                    matches.c.score < after.score,
                    and_(
                        matches.c.score == after.score,
                        sql.before(posts.c.created_at, posts.c.post_id),
                    ),
                )
            )
        query = query.order_by(
            matches.c.score.desc(), posts.c.created_at.desc(), posts.c.post_id.desc()
        ).limit(limit)
        rows = await self._session.execute(query, _feed_params(where, after))
        return [(post_from(row), float(row.score)) for row in rows]

    async def add_comment(self, comment: Comment) -> Comment:
        values = {
            "comment_id": comment.comment_id,
            "post_id": comment.post_id,
            "parent_id": comment.parent_id or None,
            "author_alias_id": comment.author_alias_id,
            "request_id": comment.request_id or None,
            "body": comment.body,
            "created_at": comment.created_at,
        }
        try:
            async with self._session.begin_nested():
                await self._session.execute(insert(comments).values(**values))
        except IntegrityError:
            earlier = await self._by_request(
                comments, sql.COMMENTS, comment.author_alias_id, comment.request_id
            )
            if earlier is None:
                raise
            return comment_from(earlier)
        return comment

    async def get_comment(self, comment_id: str) -> Comment | None:
        row = (await self._session.execute(sql.COMMENT, {"comment_id": comment_id})).first()
        return comment_from(row) if row else None

    async def get_comments(self, comment_ids: Sequence[str]) -> dict[str, Comment]:
        if not comment_ids:
            return {}
        rows = await self._session.execute(sql.COMMENTS_BY_ID, {"ids": list(comment_ids)})
        return {row.comment_id: comment_from(row) for row in rows}

    async def find_post_by_request(self, alias_id: str, request_id: str) -> Post | None:
        row = await self._by_request(posts, sql.POSTS, alias_id, request_id)
        return post_from(row) if row else None

    async def find_comment_by_request(self, alias_id: str, request_id: str) -> Comment | None:
        row = await self._by_request(comments, sql.COMMENTS, alias_id, request_id)
        return comment_from(row) if row else None

    async def count_comments(self, post_ids: Sequence[str]) -> dict[str, int]:
        if not post_ids:
            return {}
        rows = await self._session.execute(sql.COMMENT_COUNTS, {"ids": list(post_ids)})
        return {post_id: int(n) for post_id, n in rows}

    async def list_comments(self, post_id: str, after: Cursor | None, limit: int) -> list[Comment]:
        params: dict[str, Any] = {"post_id": post_id, "limit": limit}
        if after is not None:
            params |= {"created_at": after.created_at, "row_id": after.row_id}
        query = sql.COMMENT_PAGE_AFTER if after is not None else sql.COMMENT_PAGE
        return [comment_from(row) for row in await self._session.execute(query, params)]

    async def first_comments(self, post_ids: Sequence[str], limit: int) -> dict[str, list[Comment]]:
        if not post_ids:
            return {}
        # One query for every post (a window per post), not one per post: the feed asks for
        # the first comments of 20 posts at once, and each round trip costs more than the rows.
        rows = await self._session.execute(
            sql.FIRST_COMMENTS, {"ids": list(post_ids), "limit": limit}
        )
        found: dict[str, list[Comment]] = {}
        for row in rows:
            found.setdefault(row.post_id, []).append(comment_from(row))
        return found

    async def present_posts(self, post_ids: Sequence[str]) -> set[str]:
        if not post_ids:
            return set()
        rows = await self._session.execute(sql.PRESENT_POSTS, {"ids": list(post_ids)})
        return set(rows.scalars())

    async def announce_post(self, post: Post) -> None:
        await add_to_outbox(self._session, event_tables.outbox, [post_created(post)])
        self.announced = True

    async def announce_comment(
        self, comment: Comment, *, post_author: str, parent_author: str
    ) -> None:
        event = comment_created(comment, post_author, parent_author)
        await add_to_outbox(self._session, event_tables.outbox, [event])
        self.announced = True


class SqlContentStore:
    """`ContentStore` over an async engine; full-text search follows the engine's dialect.

    `on_announced` runs after a transaction that queued events has committed: the outbox
    relay's `notify`, so events leave at once instead of at the relay's next poll.
    """

    def __init__(
        self, engine: AsyncEngine, *, on_announced: Callable[[], None] | None = None
    ) -> None:
        self._sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
        self._search = full_text_for(engine.dialect.name)
        self._on_announced = on_announced

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlContentRepository]:
        async with transaction(self._sessions) as session:
            repo = SqlContentRepository(session, self._search)
            yield repo
        if repo.announced and self._on_announced is not None:
            self._on_announced()

    def joined(self, session: AsyncSession) -> SqlContentRepository:
        """A repository inside a transaction someone else owns (an event consumer's)."""
        return SqlContentRepository(session, self._search)
