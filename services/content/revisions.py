"""Authors' use cases on what they wrote: mark a case solved, edit, delete.

Each takes the one alias the record was written under, which the gateway sends only after
anonymity confirmed it is the viewer's; content checks that it is the record's author alias
and never sees another alias of the person, nor who they are. Texts are not logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from plumbing.errors import FieldViolation, InvalidArgument
from services.content.domain import ids
from services.content.domain.posts import (
    CaseFacts,
    Comment,
    Post,
    PostKind,
    redacted,
    redacted_comment,
    validate_resolution,
)
from services.content.domain.revisions import (
    deleted_comment,
    deleted_post,
    edited_comment,
    edited_post,
    require_author,
    require_live_comment,
    require_live_post,
)
from services.content.ports import ContentStore
from services.content.service import post_id_violation, require

log = logging.getLogger("consilium.content")


def _comment_id_violation(value: str) -> FieldViolation | None:
    return ids.id_violation(value, "comment_id", ids.COMMENT_PREFIX, "a comment id")


def _alias_violation(value: str) -> FieldViolation | None:
    return ids.opaque_id_violation(value, "author_alias_id")


class RevisionService:
    """Solving, editing and deleting, by the author alias only, over a `ContentStore`."""

    def __init__(
        self, store: ContentStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._clock = clock

    async def mark_case_solved(self, post_id: str, author_alias_id: str, resolution: str) -> Post:
        """SOLVED with `resolution`; CaseSolved is queued with the change (once per call)."""
        require(post_id_violation(post_id), _alias_violation(author_alias_id))
        validate_resolution(resolution)
        async with self._store.transaction() as repo:
            post = require_live_post(await repo.get_post(post_id, for_update=True))
            require_author(post.author_alias_id, author_alias_id, "mark the case solved")
            if post.kind is not PostKind.CASE:
                raise InvalidArgument([FieldViolation("post_id", "is not a CASE post")])
            solved = post.solve(resolution, self._clock())
            await repo.save_case(solved)
            await repo.announce_case_solved(solved)
        log.info("case solved")
        return redacted(solved)

    async def edit_post(
        self, post_id: str, author_alias_id: str, title: str, body: str, facts: CaseFacts | None
    ) -> Post:
        """New text for a post, checked like a new one (identifier guard included)."""
        require(post_id_violation(post_id), _alias_violation(author_alias_id))
        async with self._store.transaction() as repo:
            post = require_live_post(await repo.get_post(post_id, for_update=True))
            require_author(post.author_alias_id, author_alias_id, "edit this post")
            edited = edited_post(post, title, body, facts, self._clock())
            await repo.save_post_text(edited)
        log.info("post edited")
        return edited

    async def edit_comment(self, comment_id: str, author_alias_id: str, body: str) -> Comment:
        require(_comment_id_violation(comment_id), _alias_violation(author_alias_id))
        async with self._store.transaction() as repo:
            comment = require_live_comment(await repo.get_comment(comment_id))
            require_live_post(await repo.get_post(comment.post_id))
            require_author(comment.author_alias_id, author_alias_id, "edit this comment")
            edited = edited_comment(comment, body, self._clock())
            await repo.save_comment_body(edited)
        log.info("comment edited")
        return edited

    async def delete_post(self, post_id: str, author_alias_id: str) -> None:
        """The post leaves every list; its comments, reactions and votes stay unreachable."""
        require(post_id_violation(post_id), _alias_violation(author_alias_id))
        async with self._store.transaction() as repo:
            post = require_live_post(await repo.get_post(post_id, for_update=True))
            require_author(post.author_alias_id, author_alias_id, "delete this post")
            await repo.delete_post(deleted_post(post), self._clock())
        log.info("post deleted")

    async def delete_comment(self, comment_id: str, author_alias_id: str) -> Comment:
        """A tombstone (no body, no author alias) that keeps the replies in place."""
        require(_comment_id_violation(comment_id), _alias_violation(author_alias_id))
        async with self._store.transaction() as repo:
            comment = require_live_comment(await repo.get_comment(comment_id))
            require_live_post(await repo.get_post(comment.post_id))
            require_author(comment.author_alias_id, author_alias_id, "delete this comment")
            tombstone = deleted_comment(comment)
            await repo.delete_comment(tombstone, self._clock())
        log.info("comment deleted")
        return redacted_comment(tombstone)
