"""The hot reads' statements, built once and bound by parameters at each call.

Building a Core statement per call costs more than running it: coercing every clause,
proxying a subquery's columns, then a fresh cache key before the compiled form is found.
A statement built once keeps its cache key (SQLAlchemy memoises it on the object), so each
call goes straight to the compiled SQL. Lists of ids are expanding parameters (`:ids`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from plumbing.inline_reads import ReadConnection
from services.content.adapters.tables import (
    comments,
    hidden_aliases,
    hidden_items,
    poll_votes,
    posts,
    reactions,
)
from services.content.domain.posts import PostKind

#: What the reads run on: a unit of work's session, or a bare connection for read-only calls.
Executor = AsyncSession | ReadConnection


def hidden(alias_column: Any, item_column: Any) -> ColumnElement[bool]:
    """Hidden with its author alias, or on its own by a moderator acting on a report."""
    return or_(
        exists().where(hidden_aliases.c.alias_id == alias_column),
        exists().where(hidden_items.c.item_id == item_column),
    )


def _ids(name: str = "ids") -> Any:
    return bindparam(name, expanding=True)


def _limit() -> Any:
    return bindparam("limit", type_=Integer)


#: Every post column and `hidden`; the base of each post read.
POSTS = select(posts, hidden(posts.c.author_alias_id, posts.c.post_id).label("hidden"))
#: Every comment column and `hidden`.
COMMENTS = select(
    comments, hidden(comments.c.author_alias_id, comments.c.comment_id).label("hidden")
)

POST = POSTS.where(posts.c.post_id == bindparam("post_id"))
POST_FOR_UPDATE = POST.with_for_update(of=posts)
POSTS_BY_ID = POSTS.where(posts.c.post_id.in_(_ids()))
COMMENT = COMMENTS.where(comments.c.comment_id == bindparam("comment_id"))
COMMENTS_BY_ID = COMMENTS.where(comments.c.comment_id.in_(_ids()))


def shown(query: Select[Any], *, communities: bool, status: bool) -> Select[Any]:
    """Only what lists show: not hidden, not deleted; `:community_ids` and `:case_status`
    filter when asked for."""
    query = query.where(
        ~hidden(posts.c.author_alias_id, posts.c.post_id), posts.c.deleted_at.is_(None)
    )
    if communities:
        query = query.where(posts.c.community_id.in_(_ids("community_ids")))
    if status:
        query = query.where(
            posts.c.kind == PostKind.CASE.value, posts.c.case_status == bindparam("case_status")
        )
    return query


def before(created: Any, row_id: Any) -> ColumnElement[bool]:
    """Strictly after the cursor (`:created_at`, `:row_id`) in newest-first order."""
    at = bindparam("created_at", type_=created.type)
    return or_(created < at, and_(created == at, row_id < bindparam("row_id")))


@cache
def feed_page(*, communities: bool, status: bool, cursor: bool) -> Select[Any]:
    """A feed page (`:limit` rows), one statement per shape of filter."""
    query = shown(POSTS, communities=communities, status=status)
    if cursor:
        query = query.where(before(posts.c.created_at, posts.c.post_id))
    return query.order_by(posts.c.created_at.desc(), posts.c.post_id.desc()).limit(_limit())


def _counted() -> Any:
    return (
        select(comments.c.post_id, func.count().label("n"))
        .where(
            comments.c.post_id.in_(_ids()),
            ~hidden(comments.c.author_alias_id, comments.c.comment_id),
            comments.c.deleted_at.is_(None),
        )
        .group_by(comments.c.post_id)
        .subquery()
    )


_COUNTED = _counted()
#: Visible comments per existing post (0 for none).
COMMENT_COUNTS = (
    select(posts.c.post_id, func.coalesce(_COUNTED.c.n, 0))
    .outerjoin(_COUNTED, _COUNTED.c.post_id == posts.c.post_id)
    .where(posts.c.post_id.in_(_ids()))
)

_RANKED_COMMENTS = (
    COMMENTS.add_columns(
        func.row_number()
        .over(
            partition_by=comments.c.post_id,
            order_by=(comments.c.created_at, comments.c.comment_id),
        )
        .label("n")
    )
    .where(comments.c.post_id.in_(_ids()))
    .subquery()
)
#: The first `:limit` comments of each post in `:ids`, oldest first (a window per post).
FIRST_COMMENTS = (
    select(_RANKED_COMMENTS)
    .where(_RANKED_COMMENTS.c.n <= _limit())
    .order_by(
        _RANKED_COMMENTS.c.post_id,
        _RANKED_COMMENTS.c.created_at,
        _RANKED_COMMENTS.c.comment_id,
    )
)


def _comment_page(*, cursor: bool) -> Select[Any]:
    """One post's comments (`:post_id`), oldest first, `:limit` of them after the cursor."""
    query = COMMENTS.where(comments.c.post_id == bindparam("post_id"))
    if cursor:
        at = bindparam("created_at", type_=comments.c.created_at.type)
        query = query.where(
            or_(
                comments.c.created_at > at,
                and_(comments.c.created_at == at, comments.c.comment_id > bindparam("row_id")),
            )
        )
    return query.order_by(comments.c.created_at, comments.c.comment_id).limit(_limit())


COMMENT_PAGE = _comment_page(cursor=False)
COMMENT_PAGE_AFTER = _comment_page(cursor=True)

REACTION_COUNTS = (
    select(reactions.c.post_id, reactions.c.kind, func.count())
    .where(reactions.c.post_id.in_(_ids()))
    .group_by(reactions.c.post_id, reactions.c.kind)
)
#: Counts per kind for every existing post in `:ids` (one row with a NULL kind when it has none).
POST_REACTION_COUNTS = (
    select(posts.c.post_id, reactions.c.kind, func.count(reactions.c.post_id))
    .select_from(posts.outerjoin(reactions, reactions.c.post_id == posts.c.post_id))
    .where(posts.c.post_id.in_(_ids()))
    .group_by(posts.c.post_id, reactions.c.kind)
)
VOTE_TALLIES = (
    select(poll_votes.c.post_id, poll_votes.c.option_index, func.count())
    .where(poll_votes.c.post_id.in_(_ids()))
    .group_by(poll_votes.c.post_id, poll_votes.c.option_index)
)


def _first_per_post(post: Any, alias: Any, extra: Any) -> Select[Any]:
    """The first `:limit` rows per post in `:ids` by alias id above `:after` (a window)."""
    ranked = (
        select(
            post.label("post_id"),
            alias.label("alias_id"),
            extra.label("extra"),
            func.row_number().over(partition_by=post, order_by=alias).label("n"),
        )
        .where(post.in_(_ids()))
        .where(alias > bindparam("after"))
        .subquery()
    )
    return (
        select(ranked.c.post_id, ranked.c.alias_id, ranked.c.extra)
        .where(ranked.c.n <= _limit())
        .order_by(ranked.c.post_id, ranked.c.alias_id)
    )


REACTORS = _first_per_post(reactions.c.post_id, reactions.c.reactor_alias_id, reactions.c.kind)
VOTERS = _first_per_post(
    poll_votes.c.post_id, poll_votes.c.voter_alias_id, poll_votes.c.option_index
)
