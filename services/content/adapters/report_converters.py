"""Reports and the moderation queue between protobuf messages and domain values."""

from __future__ import annotations

from consilium.content.v1 import content_pb2 as pb
from plumbing.timestamps import timestamp
from services.content.domain.reports import (
    ModerationAction,
    QueueItem,
    QueueStatus,
    Report,
    ReportReason,
)

_REASONS: dict[pb.ReportReason.ValueType, ReportReason] = {
    pb.REPORT_REASON_PHI_EXPOSED: ReportReason.PHI_EXPOSED,
    pb.REPORT_REASON_HARASSMENT: ReportReason.HARASSMENT,
    pb.REPORT_REASON_MISINFORMATION: ReportReason.MISINFORMATION,
    pb.REPORT_REASON_SPAM: ReportReason.SPAM,
    pb.REPORT_REASON_OTHER: ReportReason.OTHER,
}
_REASONS_OUT = {v: k for k, v in _REASONS.items()}
_STATUSES: dict[pb.QueueStatus.ValueType, QueueStatus] = {
    pb.QUEUE_STATUS_OPEN: QueueStatus.OPEN,
    pb.QUEUE_STATUS_RESOLVED: QueueStatus.RESOLVED,
}
_STATUSES_OUT: dict[QueueStatus, pb.QueueStatus.ValueType] = {v: k for k, v in _STATUSES.items()}
_ACTIONS: dict[pb.ModerationAction.ValueType, ModerationAction] = {
    pb.MODERATION_ACTION_HIDE_CONTENT: ModerationAction.HIDE_CONTENT,
    pb.MODERATION_ACTION_DISMISS: ModerationAction.DISMISS,
}
_ACTIONS_OUT = {v: k for k, v in _ACTIONS.items()}


def reason_from_proto(value: pb.ReportReason.ValueType) -> ReportReason | None:
    return _REASONS.get(value)


def status_from_proto(value: pb.QueueStatus.ValueType) -> QueueStatus | None:
    return _STATUSES.get(value)


def action_from_proto(value: pb.ModerationAction.ValueType) -> ModerationAction | None:
    return _ACTIONS.get(value)


def report_to_proto(report: Report) -> pb.ReportContentResponse:
    return pb.ReportContentResponse(
        item_id=report.item_id,
        reason=_REASONS_OUT[report.reason],
        reported_at=timestamp(report.reported_at),
        created=report.created,
    )


def queue_item_to_proto(item: QueueItem) -> pb.QueueItem:
    return pb.QueueItem(
        item_id=item.item_id,
        post_id=item.post_id,
        comment_id=item.comment_id,
        author_alias_id=item.author_alias_id,
        counts=[
            pb.ReasonCount(reason=_REASONS_OUT[r], count=n)
            for r, n in sorted(item.counts.items(), key=lambda rn: _REASONS_OUT[rn[0]])
        ],
        report_count=item.report_count,
        first_reported_at=timestamp(item.first_reported_at),
        last_reported_at=timestamp(item.last_reported_at),
        hidden=item.hidden,
        status=_STATUSES_OUT[item.status],
        notes=list(item.notes),
        resolution=_ACTIONS_OUT[item.resolution]
        if item.resolution
        else pb.MODERATION_ACTION_UNSPECIFIED,
    )
