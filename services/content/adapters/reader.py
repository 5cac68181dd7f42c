"""The content reads, on a unit of work's session or on a bare connection.

Read-only calls (the feed, the post page, search and their batch reads) take a pooled
connection of their own, without an ORM session around it: no session state, no
SessionTransaction to open and commit, one rollback when the connection goes back to the pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Float, Integer, Select, and_, bindparam, or_, select

from services.content.adapters import statements as sql
from services.content.adapters.engagement_queries import EngagementReads
from services.content.adapters.rows import comment_from, post_from
from services.content.adapters.search import FullTextSearch
from services.content.adapters.statements import Executor
from services.content.adapters.tables import communities, posts
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


@cache
def _search_page(
    search: FullTextSearch, *, communities: bool, status: bool, cursor: bool
) -> Select[Any]:
    """A search page (`:limit` rows matching `:search`), one statement per shape of filter."""
    matches = search.matches
    query = sql.shown(
        sql.POSTS.add_columns(matches.c.score).join(matches, matches.c.post_id == posts.c.post_id),
        communities=communities,
        status=status,
    )
    if cursor:
        score = bindparam("score", type_=Float(precision=53))
        query = query.where(
            or_(
                matches.c.score < score,
                and_(matches.c.score == score, sql.before(posts.c.created_at, posts.c.post_id)),
            )
        )
    return query.order_by(
        matches.c.score.desc(), posts.c.created_at.desc(), posts.c.post_id.desc()
    ).limit(bindparam("limit", type_=Integer))


class SqlContentReader(EngagementReads):
    """`ContentReader` over a session or a connection."""

    def __init__(self, session: Executor, search: FullTextSearch) -> None:
        self._session = session
        self._search = search

    async def list_communities(self) -> list[Community]:
        rows = await self._session.execute(select(communities).order_by(communities.c.name))
        return [Community(r.community_id, r.name, r.description) for r in rows.all()]

    async def get_communities(self, community_ids: Sequence[str]) -> dict[str, Community]:
        if not community_ids:
            return {}
        rows = await self._session.execute(
            select(communities).where(communities.c.community_id.in_(community_ids))
        )
        return {
            r.community_id: Community(r.community_id, r.name, r.description) for r in rows.all()
        }

    async def get_posts(self, post_ids: Sequence[str]) -> dict[str, Post]:
        if not post_ids:
            return {}
        rows = await self._session.execute(sql.POSTS_BY_ID, {"ids": list(post_ids)})
        return {row.post_id: post_from(row) for row in rows.all()}

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
        return [post_from(row) for row in (await self._session.execute(query, params)).all()]

    async def search_posts(
        self, text: str, where: FeedFilter, after: Cursor | None, limit: int
    ) -> list[tuple[Post, float]]:
        search = self._search.parameter(text)
        if search is None:
            return []
        query = _search_page(
            self._search,
            communities=where.community_ids is not None,
            status=where.case_status is not None,
            cursor=after is not None,
        )
        params = _feed_params(where, after) | {"search": search, "limit": limit}
        if after is not None:
            params["score"] = after.score
        rows = await self._session.execute(query, params)
        return [(post_from(row), float(row.score)) for row in rows.all()]

    async def get_comment(self, comment_id: str) -> Comment | None:
        row = (await self._session.execute(sql.COMMENT, {"comment_id": comment_id})).first()
        return comment_from(row) if row else None

    async def get_comments(self, comment_ids: Sequence[str]) -> dict[str, Comment]:
        if not comment_ids:
            return {}
        rows = await self._session.execute(sql.COMMENTS_BY_ID, {"ids": list(comment_ids)})
        return {row.comment_id: comment_from(row) for row in rows.all()}

    async def count_comments(self, post_ids: Sequence[str]) -> dict[str, int]:
        if not post_ids:
            return {}
        rows = await self._session.execute(sql.COMMENT_COUNTS, {"ids": list(post_ids)})
        return {post_id: int(n) for post_id, n in rows.all()}

    async def list_comments(self, post_id: str, after: Cursor | None, limit: int) -> list[Comment]:
        params: dict[str, Any] = {"post_id": post_id, "limit": limit}
        if after is not None:
            params |= {"created_at": after.created_at, "row_id": after.row_id}
        query = sql.COMMENT_PAGE_AFTER if after is not None else sql.COMMENT_PAGE
        return [comment_from(row) for row in (await self._session.execute(query, params)).all()]

    async def first_comments(self, post_ids: Sequence[str], limit: int) -> dict[str, list[Comment]]:
        if not post_ids:
            return {}
        # One query for every post (a window per post), not one per post: the feed asks for
        # the first comments of 20 posts at once, and each round trip costs more than the rows.
        rows = await self._session.execute(
            sql.FIRST_COMMENTS, {"ids": list(post_ids), "limit": limit}
        )
        found: dict[str, list[Comment]] = {}
        for row in rows.all():
            found.setdefault(row.post_id, []).append(comment_from(row))
        return found
