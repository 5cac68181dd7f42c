"""Reports of posts and comments and the moderation queue they feed: values and rules.

A report is kept under the reporter's alias of the post's thread, never a person, so
"one report per alias and item" is all content can (and needs to) enforce.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from plumbing.errors import FieldViolation, InvalidArgument
from services.content.domain.posts import identifier_violations

MAX_NOTE = 1000
MAX_REASON = 1000
#: Notes shown per queue item: enough to judge, bounded so one item cannot flood a page.
MAX_NOTES = 20
#: Roles content accepts as an action's actor; the gateway checks the viewer holds one.
STAFF_ROLES = frozenset({"MODERATOR", "ADMIN"})


class ReportReason(enum.Enum):
    PHI_EXPOSED = "PHI_EXPOSED"
    HARASSMENT = "HARASSMENT"
    MISINFORMATION = "MISINFORMATION"
    SPAM = "SPAM"
    OTHER = "OTHER"


class QueueStatus(enum.Enum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class ModerationAction(enum.Enum):
    HIDE_CONTENT = "HIDE_CONTENT"
    DISMISS = "DISMISS"


@dataclass(frozen=True, slots=True)
class Report:
    item_id: str
    reason: ReportReason
    reported_at: datetime
    created: bool


@dataclass(frozen=True, slots=True)
class QueueItem:
    item_id: str
    post_id: str
    comment_id: str
    author_alias_id: str
    status: QueueStatus
    first_reported_at: datetime
    last_reported_at: datetime
    hidden: bool
    counts: dict[ReportReason, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    resolution: ModerationAction | None = None

    @property
    def report_count(self) -> int:
        return sum(self.counts.values())


def _length(name: str, value: str, *, required: bool, high: int) -> FieldViolation | None:
    if required and not value.strip():
        return FieldViolation(name, "is required")
    if len(value) > high:
        return FieldViolation(name, f"is longer than {high:,} characters; shorten it")
    return None


def validate_report(reason: ReportReason | None, note: str) -> ReportReason:
    """The reason; INVALID_ARGUMENT names a missing reason, a bad note or an identifier in it."""
    found = []
    if reason is None:
        found.append(
            FieldViolation("reason", "is required: " + ", ".join(r.value for r in ReportReason))
        )
    if reason is ReportReason.OTHER and not note.strip():
        found.append(FieldViolation("note", "is required when the reason is OTHER"))
    violation = _length("note", note, required=False, high=MAX_NOTE)
    if violation is not None:
        found.append(violation)
    found.extend(identifier_violations([("note", note)]))
    if found:
        raise InvalidArgument(found)
    assert reason is not None
    return reason


def validate_action(action: ModerationAction | None, reason: str, staff_role: str) -> None:
    found = [
        None
        if action is not None
        else FieldViolation("action", "is required: HIDE_CONTENT or DISMISS"),
        _length("reason", reason, required=True, high=MAX_REASON),
        None
        if staff_role in STAFF_ROLES
        else FieldViolation("staff_role", "must be MODERATOR or ADMIN"),
    ]
    violations = [v for v in found if v is not None]
    violations.extend(identifier_violations([("reason", reason)]))
    if violations:
        raise InvalidArgument(violations)
