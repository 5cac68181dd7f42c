"""Report use cases: a member reports a post or comment, moderators work the queue.

Reports arrive under the reporter's alias of the post's thread (the gateway picks it), never
a user id, so one report per alias and item is what content enforces, and nothing here can
tell who reported. Actions are logged with the actor's role and a random id only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from plumbing.errors import FieldViolation, InvalidArgument, NotFound
from services.content.domain import ids
from services.content.domain.paging import Cursor, decode_cursor, page_size
from services.content.domain.reports import (
    ModerationAction,
    QueueItem,
    QueueStatus,
    Report,
    ReportReason,
    validate_action,
    validate_report,
)
from services.content.ports import ContentStore
from services.content.service import Page, post_id_violation, require

log = logging.getLogger("consilium.content")

_CURSOR = "queue"


def _item_violation(value: str) -> FieldViolation | None:
    if value.startswith(ids.COMMENT_PREFIX):
        return ids.id_violation(value, "item_id", ids.COMMENT_PREFIX, "a post or comment id")
    return post_id_violation(value, "item_id")


class ReportService:
    """Reports and the moderation queue over a `ContentStore`."""

    def __init__(
        self, store: ContentStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._clock = clock

    async def report(
        self,
        post_id: str,
        comment_id: str,
        reporter_alias_id: str,
        reason: ReportReason | None,
        note: str,
    ) -> Report:
        """The alias's one report of the item; a repeat answers the first (created False)."""
        require(
            post_id_violation(post_id),
            ids.id_violation(comment_id, "comment_id", ids.COMMENT_PREFIX, "a comment id")
            if comment_id
            else None,
            ids.opaque_id_violation(reporter_alias_id, "reporter_alias_id"),
        )
        item_id = comment_id or post_id
        async with self._store.transaction() as repo:
            earlier = await repo.find_report(item_id, reporter_alias_id)
            if earlier is not None:
                return earlier
            checked = validate_report(reason, note)
            post = await repo.get_post(post_id)
            if post is None or post.hidden:
                raise NotFound("no post with that id")
            if comment_id:
                comment = await repo.get_comment(comment_id)
                if comment is None or comment.post_id != post_id or comment.hidden:
                    raise NotFound("no comment with that id on that post")
            report = await repo.add_report(
                post_id, comment_id, reporter_alias_id, checked, note, self._clock()
            )
        log.info("content reported")
        return report

    async def queue(self, status: QueueStatus | None, first: int, after: str) -> Page[QueueItem]:
        if status is None:
            raise InvalidArgument([FieldViolation("status", "is required: OPEN or RESOLVED")])
        limit = page_size(first)
        cursor = decode_cursor(after, _CURSOR)
        async with self._store.transaction() as repo:
            rows = await repo.moderation_queue(status, cursor, limit + 1)
        has_next = len(rows) > limit
        rows = rows[:limit]
        cursors = [Cursor(r.last_reported_at, r.item_id).encode(_CURSOR) for r in rows]
        return Page(rows, cursors[-1] if has_next and rows else "", has_next, cursors)

    async def resolve(
        self, item_id: str, action: ModerationAction | None, reason: str, staff_role: str
    ) -> tuple[QueueItem, str]:
        """Hides the item or dismisses its reports; the item after, and the log entry's id."""
        require(_item_violation(item_id))
        validate_action(action, reason, staff_role)
        assert action is not None
        async with self._store.transaction() as repo:
            if await repo.queue_item(item_id) is None:
                raise NotFound("no reported post or comment with that id")
            action_id = await repo.resolve_item(item_id, action, reason, staff_role, self._clock())
            item = await repo.queue_item(item_id)
        assert item is not None
        log.info("reports resolved")
        return item, action_id
