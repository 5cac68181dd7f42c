"""Reports and the moderation queue in SQL: one report per alias and item, counts per reason."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.content.adapters.rows import aware
from services.content.adapters.tables import (
    comments,
    hidden_aliases,
    hidden_items,
    moderation_log,
    posts,
    report_items,
    reports,
)
from services.content.domain.paging import Cursor
from services.content.domain.reports import (
    MAX_NOTES,
    ModerationAction,
    QueueItem,
    QueueStatus,
    Report,
    ReportReason,
)

_AUTHOR = func.coalesce(comments.c.author_alias_id, posts.c.author_alias_id)
_QUEUE = (
    select(
        report_items,
        _AUTHOR.label("author_alias_id"),
        or_(
            exists().where(hidden_items.c.item_id == report_items.c.item_id),
            exists().where(hidden_aliases.c.alias_id == _AUTHOR),
        ).label("hidden"),
    )
    .join(posts, posts.c.post_id == report_items.c.post_id)
    .outerjoin(comments, comments.c.comment_id == report_items.c.comment_id)
)


class ReportQueries:
    """The reports part of `ContentRepository`, over the repository's session."""

    _session: AsyncSession

    async def find_report(self, item_id: str, alias_id: str) -> Report | None:
        row = (
            await self._session.execute(
                select(reports).where(
                    reports.c.item_id == item_id, reports.c.reporter_alias_id == alias_id
                )
            )
        ).first()
        if row is None:
            return None
        reported_at = aware(row.reported_at)
        assert reported_at is not None
        return Report(item_id, ReportReason(row.reason), reported_at, created=False)

    async def add_report(
        self,
        post_id: str,
        comment_id: str,
        alias_id: str,
        reason: ReportReason,
        note: str,
        now: datetime,
    ) -> Report:
        item_id = comment_id or post_id
        try:
            async with self._session.begin_nested():
                await self._open_item(item_id, post_id, comment_id, now)
                await self._session.execute(
                    insert(reports).values(
                        item_id=item_id,
                        reporter_alias_id=alias_id,
                        reason=reason.value,
                        note=note,
                        reported_at=now,
                    )
                )
        except IntegrityError:
            # A concurrent report by the same alias won the race: answer that one.
            earlier = await self.find_report(item_id, alias_id)
            if earlier is None:
                raise
            return earlier
        return Report(item_id, reason, now, created=True)

    async def _open_item(self, item_id: str, post_id: str, comment_id: str, now: datetime) -> None:
        changed = await self._session.execute(
            update(report_items)
            .where(report_items.c.item_id == item_id)
            .values(status=QueueStatus.OPEN.value, last_reported_at=now)
        )
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            await self._session.execute(
                insert(report_items).values(
                    item_id=item_id,
                    post_id=post_id,
                    comment_id=comment_id or None,
                    status=QueueStatus.OPEN.value,
                    first_reported_at=now,
                    last_reported_at=now,
                )
            )

    async def moderation_queue(
        self, status: QueueStatus, after: Cursor | None, limit: int
    ) -> list[QueueItem]:
        """Items in `status`, most recently reported first."""
        query = _QUEUE.where(report_items.c.status == status.value)
        if after is not None:
            query = query.where(
                or_(
                    report_items.c.last_reported_at < after.created_at,
                    and_(
                        report_items.c.last_reported_at == after.created_at,
                        report_items.c.item_id < after.row_id,
                    ),
                )
            )
        query = query.order_by(
            report_items.c.last_reported_at.desc(), report_items.c.item_id.desc()
        ).limit(limit)
        return await self._items(list(await self._session.execute(query)))

    async def queue_item(self, item_id: str) -> QueueItem | None:
        rows = list(await self._session.execute(_QUEUE.where(report_items.c.item_id == item_id)))
        found = await self._items(rows)
        return found[0] if found else None

    async def _items(self, rows: Sequence[Any]) -> list[QueueItem]:
        item_ids = [r.item_id for r in rows]
        counts: dict[str, dict[ReportReason, int]] = {i: {} for i in item_ids}
        notes: dict[str, list[str]] = {i: [] for i in item_ids}
        if item_ids:
            counted = await self._session.execute(
                select(reports.c.item_id, reports.c.reason, func.count())
                .where(reports.c.item_id.in_(item_ids))
                .group_by(reports.c.item_id, reports.c.reason)
            )
            for item_id, reason, n in counted:
                counts[item_id][ReportReason(reason)] = int(n)
            noted = await self._session.execute(
                select(reports.c.item_id, reports.c.note)
                .where(reports.c.item_id.in_(item_ids), reports.c.note != "")
                .order_by(reports.c.reported_at, reports.c.reporter_alias_id)
            )
            for item_id, note in noted:
                if len(notes[item_id]) < MAX_NOTES:
                    notes[item_id].append(note)
        return [_item(r, counts[r.item_id], notes[r.item_id]) for r in rows]

    async def resolve_item(
        self, item_id: str, action: ModerationAction, reason: str, staff_role: str, now: datetime
    ) -> str:
        """Closes the item's reports under `action`, hiding the item for HIDE_CONTENT; the
        moderation log's new entry id."""
        await self._session.execute(
            update(report_items)
            .where(report_items.c.item_id == item_id)
            .values(status=QueueStatus.RESOLVED.value, resolution=action.value)
        )
        if action is ModerationAction.HIDE_CONTENT:
            already = await self._session.scalar(
                select(hidden_items.c.item_id).where(hidden_items.c.item_id == item_id)
            )
            if already is None:
                await self._session.execute(
                    insert(hidden_items).values(item_id=item_id, hidden_at=now)
                )
        action_id = "mod_" + secrets.token_hex(12)
        await self._session.execute(
            insert(moderation_log).values(
                action_id=action_id,
                item_id=item_id,
                action=action.value,
                staff_role=staff_role,
                reason=reason,
                acted_at=now,
            )
        )
        return action_id


def _item(row: Any, counts: dict[ReportReason, int], notes: list[str]) -> QueueItem:
    first, last = aware(row.first_reported_at), aware(row.last_reported_at)
    assert first is not None and last is not None
    return QueueItem(
        item_id=row.item_id,
        post_id=row.post_id,
        comment_id=row.comment_id or "",
        author_alias_id=row.author_alias_id,
        status=QueueStatus(row.status),
        first_reported_at=first,
        last_reported_at=last,
        hidden=bool(row.hidden),
        counts=counts,
        notes=tuple(notes),
        resolution=ModerationAction(row.resolution) if row.resolution else None,
    )
