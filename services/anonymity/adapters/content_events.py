"""Consumes `content.posts.v1` as group "anonymity-index": fills people's sealed indexes.

Content's events are alias-keyed; this handler turns them into entries of the aliases' owners'
indexes (services.anonymity.index_feed) in the consumer's transaction, which also records the
event id as processed, so a redelivered event adds nothing. It queues no event and starts no
trace of its own: nothing leaves anonymity from here. Types it does not know are skipped.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from consilium.events.v1 import content_events_pb2 as cev
from plumbing.events.envelope import Event
from plumbing.timestamps import to_datetime
from services.anonymity.adapters.store import SqlAliasRepository
from services.anonymity.index_feed import CaseSolved, CommentWritten, IndexFeed, PostWritten

log = logging.getLogger("consilium.anonymity")

#: Its own group: it reads a different topic than the identity consumer.
GROUP = "anonymity-index"

_POST = cev.PostCreated.DESCRIPTOR.full_name
_COMMENT = cev.CommentCreated.DESCRIPTOR.full_name
_SOLVED = cev.CaseSolved.DESCRIPTOR.full_name


class ContentEventHandler:
    """`plumbing.events.consumer.Handler` for content's post and comment events."""

    def __init__(self, feed: IndexFeed) -> None:
        self._feed = feed

    async def __call__(self, event: Event, session: AsyncSession) -> None:
        repo = SqlAliasRepository(session)
        if event.type == _POST:
            post = event.decode(cev.PostCreated)
            await self._feed.post_written(
                repo,
                PostWritten(
                    post.post_id,
                    post.author_alias_id,
                    to_datetime(post.created_at),
                ),
            )
        elif event.type == _COMMENT:
            comment = event.decode(cev.CommentCreated)
            await self._feed.comment_written(
                repo,
                CommentWritten(
                    comment_id=comment.comment_id,
                    post_id=comment.post_id,
                    parent_id=comment.parent_id,
                    author_alias_id=comment.author_alias_id,
                    post_author_alias_id=comment.post_author_alias_id,
                    parent_author_alias_id=comment.parent_author_alias_id,
                    created_at=to_datetime(comment.created_at),
                ),
            )
        elif event.type == _SOLVED:
            solved = event.decode(cev.CaseSolved)
            await self._feed.case_solved(
                repo,
                CaseSolved(solved.post_id, solved.author_alias_id, to_datetime(solved.solved_at)),
            )
        else:
            log.info("content event of a type the index does not use skipped: %s", event.type)
