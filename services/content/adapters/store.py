"""The content store on SQLAlchemy Core: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

from sqlalchemy import (
    Select,
    insert,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from plumbing.db import session_factory, transaction
from plumbing.events.outbox import add_to_outbox
from plumbing.inline_reads import read_connection
from services.content.adapters import statements as sql
from services.content.adapters.alias_state import AliasStateQueries
from services.content.adapters.engagement_queries import EngagementQueries
from services.content.adapters.post_events import comment_created, post_created
from services.content.adapters.reader import SqlContentReader
from services.content.adapters.report_queries import ReportQueries
from services.content.adapters.revision_queries import RevisionQueries
from services.content.adapters.rows import comment_from, post_from, post_row
from services.content.adapters.search import FullTextSearch, full_text_for
from services.content.adapters.tables import (
    comments,
    event_tables,
    posts,
)
from services.content.domain.posts import Comment, Post


class SqlContentRepository(
    AliasStateQueries, EngagementQueries, RevisionQueries, ReportQueries, SqlContentReader
):
    """`ContentRepository` over one SQLAlchemy session (one transaction)."""

    _session: AsyncSession

    def __init__(self, session: AsyncSession, search: FullTextSearch) -> None:
        super().__init__(session, search)
        #: Whether this unit of work queued events (the relay is told after the commit).
        self.announced = False

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

    async def find_post_by_request(self, alias_id: str, request_id: str) -> Post | None:
        row = await self._by_request(posts, sql.POSTS, alias_id, request_id)
        return post_from(row) if row else None

    async def find_comment_by_request(self, alias_id: str, request_id: str) -> Comment | None:
        row = await self._by_request(comments, sql.COMMENTS, alias_id, request_id)
        return comment_from(row) if row else None

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
        self._engine = engine
        self._writer: AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )
        self._sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
        self._search = full_text_for(engine.dialect.name)
        self._on_announced = on_announced

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlContentRepository]:
        # SQLite has one writer at a time: our own units of work queue here, in order,
        # rather than each holding a pooled connection and a thread in SQLite's busy wait.
        async with self._writer, transaction(self._sessions, writes=True) as session:
            repo = SqlContentRepository(session, self._search)
            yield repo
        if repo.announced and self._on_announced is not None:
            self._on_announced()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SqlContentReader]:
        """Reads on a connection of their own, without a session (nothing to commit): inline
        on a SQLite file (plumbing.inline_reads), else pooled."""
        async with read_connection(self._engine) as connection:
            yield SqlContentReader(connection, self._search)

    def joined(self, session: AsyncSession) -> SqlContentRepository:
        """A repository inside a transaction someone else owns (an event consumer's)."""
        return SqlContentRepository(session, self._search)
