"""Reports and the moderation queue: reported posts and comments with counts per reason.

A queue item names its author persona (alias id, for `suspendAuthor` / `hideAlias`) and
never anyone who reported it: content holds reporters only as thread aliases, and the
gateway does not ask.
"""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from google.protobuf.timestamp_pb2 import Timestamp

from consilium.content.v1 import content_pb2 as cpb
from consilium.content.v1 import types_pb2 as ctypes
from gateway.context import Info
from gateway.schema.types.author import Author, load_author
from gateway.schema.types.connections import Edge, PageInfo, edges
from gateway.schema.types.enums import from_proto
from gateway.schema.types.posts import Comment, Post
from plumbing.timestamps import to_datetime


@strawberry.enum(description="Why a post or comment is reported.")
class ReportReason(enum.Enum):
    PHI_EXPOSED = "PHI_EXPOSED"
    HARASSMENT = "HARASSMENT"
    MISINFORMATION = "MISINFORMATION"
    SPAM = "SPAM"
    OTHER = "OTHER"


@strawberry.enum(description="OPEN: reports nobody acted on yet; RESOLVED: hidden or dismissed.")
class ReportStatus(enum.Enum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


@strawberry.enum(description="What a moderator does with a reported item.")
class ModerationAction(enum.Enum):
    HIDE_CONTENT = "HIDE_CONTENT"
    DISMISS = "DISMISS"


REPORT_REASON = (cpb.ReportReason, "REPORT_REASON")
REPORT_STATUS = (cpb.QueueStatus, "QUEUE_STATUS")
MODERATION_ACTION = (cpb.ModerationAction, "MODERATION_ACTION")


def _time(stamp: Timestamp) -> datetime:
    return to_datetime(stamp)


@strawberry.type(description="The viewer's report (the first one, if they had reported it).")
class Report:
    item_id: strawberry.ID
    reason: ReportReason | None
    reported_at: datetime
    already_reported: bool = strawberry.field(
        description="True when this was a repeat: each member reports an item once per thread."
    )

    @classmethod
    def from_proto(cls, reply: cpb.ReportContentResponse) -> Report:
        return cls(
            item_id=strawberry.ID(reply.item_id),
            reason=from_proto(ReportReason, REPORT_REASON, reply.reason),
            reported_at=_time(reply.reported_at),
            already_reported=not reply.created,
        )


@strawberry.type
class ReasonCount:
    reason: ReportReason | None
    count: int


@strawberry.type(description="A reported post or comment, as moderators see it.")
class ModerationQueueItem:
    id: strawberry.ID = strawberry.field(description="The post or comment id.")
    status: ReportStatus | None
    report_count: int
    counts: list[ReasonCount]
    notes: list[str] = strawberry.field(description="Reporters' notes, unsigned, oldest first.")
    first_reported_at: datetime
    last_reported_at: datetime
    hidden: bool = strawberry.field(
        description="Hidden by a moderator, or with its author alias (`hideAlias`)."
    )
    resolution: ModerationAction | None
    author_alias_id: strawberry.ID = strawberry.field(
        description="The author's alias: act on it with `suspendAuthor` or `hideAlias`."
    )
    post_id: strawberry.ID
    comment: Comment | None = strawberry.field(
        description="The reported comment (null when the post itself is reported); a hidden "
        "one comes back without its words."
    )

    @strawberry.field(description="The author persona; never who reported.")
    async def author(self, info: Info) -> Author:
        return await load_author(info, str(self.author_alias_id))

    @strawberry.field(
        description="The post (or the reported comment's post); hidden ones "
        "come back without their words."
    )
    async def post(self, info: Info) -> Post | None:
        found = await info.context.loaders.posts.load(str(self.post_id))
        return Post.from_proto(found) if found is not None else None

    @classmethod
    def from_proto(
        cls, item: cpb.QueueItem, comments: dict[str, ctypes.Comment]
    ) -> ModerationQueueItem:
        found = comments.get(item.comment_id) if item.comment_id else None
        return cls(
            id=strawberry.ID(item.item_id),
            status=from_proto(ReportStatus, REPORT_STATUS, item.status),
            report_count=item.report_count,
            counts=[
                ReasonCount(reason=from_proto(ReportReason, REPORT_REASON, c.reason), count=c.count)
                for c in item.counts
            ],
            notes=list(item.notes),
            first_reported_at=_time(item.first_reported_at),
            last_reported_at=_time(item.last_reported_at),
            hidden=item.hidden,
            resolution=from_proto(ModerationAction, MODERATION_ACTION, item.resolution),
            author_alias_id=strawberry.ID(item.author_alias_id),
            post_id=strawberry.ID(item.post_id),
            comment=Comment.from_proto(found) if found is not None else None,
        )


@strawberry.type
class ModerationQueueConnection:
    edges: list[Edge[ModerationQueueItem]]
    nodes: list[ModerationQueueItem]
    page_info: PageInfo

    @classmethod
    def from_proto(
        cls, page: cpb.ListModerationQueueResponse, comments: dict[str, ctypes.Comment]
    ) -> ModerationQueueConnection:
        nodes = [ModerationQueueItem.from_proto(i, comments) for i in page.items]
        return cls(
            edges=edges(nodes, page.cursors),
            nodes=nodes,
            page_info=PageInfo.of(page.cursors, page.has_next_page),
        )


@strawberry.type(description="A moderator's action on a reported item, and the item after it.")
class ModerationResult:
    item: ModerationQueueItem
    action_id: strawberry.ID = strawberry.field(
        description="The moderation log's entry for this action (content keeps the role "
        "that acted, never who)."
    )
