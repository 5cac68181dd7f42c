"""Rows <-> domain records for the content tables (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.content.domain.posts import (
    AgeBand,
    Case,
    CaseFacts,
    CaseStatus,
    Comment,
    Post,
    PostKind,
    Sex,
)


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes even for timezone-aware columns; we store UTC.
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


#: For the other adapters' rows (reports, the moderation queue).
aware = _aware


def post_row(post: Post) -> dict[str, Any]:
    row: dict[str, Any] = {
        "post_id": post.post_id,
        "kind": post.kind.value,
        "community_id": post.community_id,
        "thread_scope_id": post.thread_scope_id,
        "author_alias_id": post.author_alias_id,
        "request_id": post.request_id or None,
        "title": post.title,
        "body": post.body,
        "created_at": post.created_at,
        "poll_options": list(post.poll_options) if post.kind is PostKind.POLL else None,
        "poll_closes_at": post.poll_closes_at,
    }
    if post.case is not None:
        facts = post.case.facts
        row |= {
            "age_band": facts.age_band.value if facts.age_band else None,
            "sex": facts.sex.value if facts.sex else None,
            "presenting_complaint": facts.presenting_complaint,
            "history": facts.history,
            "question": facts.question,
            "specialty_tags": ",".join(facts.specialty_tags),
            "case_status": post.case.status.value,
            "resolution": post.case.resolution,
            "solved_at": post.case.solved_at,
        }
    return row


def post_from(row: Any) -> Post:
    case = None
    if row.kind == PostKind.CASE.value:
        facts = CaseFacts(
            age_band=AgeBand(row.age_band) if row.age_band else None,
            sex=Sex(row.sex) if row.sex else None,
            presenting_complaint=row.presenting_complaint or "",
            history=row.history or "",
            question=row.question or "",
            specialty_tags=tuple(t for t in (row.specialty_tags or "").split(",") if t),
        )
        case = Case(
            facts,
            CaseStatus(row.case_status),
            row.resolution or "",
            _aware(row.solved_at),
        )
    created_at = _aware(row.created_at)
    assert created_at is not None
    return Post(
        post_id=row.post_id,
        kind=PostKind(row.kind),
        community_id=row.community_id,
        thread_scope_id=row.thread_scope_id,
        author_alias_id=row.author_alias_id,
        title=row.title,
        body=row.body,
        created_at=created_at,
        case=case,
        poll_options=tuple(row.poll_options or ()),
        poll_closes_at=_aware(row.poll_closes_at),
        request_id=row.request_id or "",
        hidden=bool(row.hidden),
        edited_at=_aware(row.edited_at),
        deleted=row.deleted_at is not None,
    )


def comment_from(row: Any) -> Comment:
    created_at = _aware(row.created_at)
    assert created_at is not None
    return Comment(
        comment_id=row.comment_id,
        post_id=row.post_id,
        parent_id=row.parent_id or "",
        author_alias_id=row.author_alias_id,
        body=row.body,
        created_at=created_at,
        request_id=row.request_id or "",
        hidden=bool(row.hidden),
        edited_at=_aware(row.edited_at),
        deleted=row.deleted_at is not None,
    )
