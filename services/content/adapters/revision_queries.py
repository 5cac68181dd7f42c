"""Authors' changes to what they wrote: solved cases, edits and deletions, with their events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from plumbing.events.outbox import add_to_outbox
from services.content.adapters.post_events import case_solved
from services.content.adapters.tables import comments, event_tables, posts
from services.content.domain.posts import Comment, Post


def _case_text(post: Post) -> dict[str, Any]:
    if post.case is None:
        return {}
    facts = post.case.facts
    return {
        "age_band": facts.age_band.value if facts.age_band else None,
        "sex": facts.sex.value if facts.sex else None,
        "presenting_complaint": facts.presenting_complaint,
        "history": facts.history,
        "question": facts.question,
        "specialty_tags": ",".join(facts.specialty_tags),
        "resolution": post.case.resolution,
    }


class RevisionQueries:
    """The revision part of `ContentRepository`, over the repository's session."""

    _session: AsyncSession
    announced: bool

    async def save_case(self, post: Post) -> None:
        assert post.case is not None
        await self._session.execute(
            update(posts)
            .where(posts.c.post_id == post.post_id)
            .values(
                case_status=post.case.status.value,
                resolution=post.case.resolution,
                solved_at=post.case.solved_at,
            )
        )

    async def save_post_text(self, post: Post) -> None:
        # The search index follows by itself (FTS5 triggers, a generated tsvector column).
        await self._session.execute(
            update(posts)
            .where(posts.c.post_id == post.post_id)
            .values(title=post.title, body=post.body, edited_at=post.edited_at, **_case_text(post))
        )

    async def save_comment_body(self, comment: Comment) -> None:
        await self._session.execute(
            update(comments)
            .where(comments.c.comment_id == comment.comment_id)
            .values(body=comment.body, edited_at=comment.edited_at)
        )

    async def delete_post(self, post: Post, now: datetime) -> None:
        await self._session.execute(
            update(posts)
            .where(posts.c.post_id == post.post_id)
            .values(title="", body="", deleted_at=now, **_case_text(post))
        )

    async def delete_comment(self, comment: Comment, now: datetime) -> None:
        await self._session.execute(
            update(comments)
            .where(comments.c.comment_id == comment.comment_id)
            .values(body="", deleted_at=now)
        )

    async def announce_case_solved(self, post: Post) -> None:
        await add_to_outbox(self._session, event_tables.outbox, [case_solved(post)])
        self.announced = True
