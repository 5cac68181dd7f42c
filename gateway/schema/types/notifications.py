"""A doctor's own index: notifications of replies, and their own posts and comments.

Both come from anonymity (the person's sealed index), never from content: an item carries the
ids to open it with an ordinary `post(id)` query and nothing that would make the gateway ask
content for one person's posts together.
"""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from consilium.anonymity.v1 import anonymity_pb2 as anon
from gateway.schema.types.connections import Edge, PageInfo, edges
from gateway.schema.types.enums import VISIBILITY, Visibility, from_proto
from plumbing.timestamps import to_datetime


@strawberry.enum(description="Why a notification was sent.")
class NotificationKind(enum.Enum):
    REPLY_TO_POST = "REPLY_TO_POST"
    REPLY_TO_COMMENT = "REPLY_TO_COMMENT"
    CASE_SOLVED = "CASE_SOLVED"


@strawberry.enum(description="What one of the viewer's own items is.")
class ActivityKind(enum.Enum):
    POST = "POST"
    COMMENT = "COMMENT"


def _kind(entry: anon.IndexEntry) -> str:
    return anon.EntryKind.Name(entry.kind).removeprefix("ENTRY_KIND_")


def _when(entry: anon.IndexEntry) -> datetime:
    return to_datetime(entry.occurred_at)


@strawberry.type(
    description="Someone answered the viewer, under whichever alias the viewer wrote, or a case "
    "the viewer commented on was solved. Open it with `post(id: postId)`."
)
class Notification:
    id: strawberry.ID = strawberry.field(description="Also its cursor.")
    kind: NotificationKind
    post_id: strawberry.ID
    comment_id: strawberry.ID | None = strawberry.field(
        description="The reply (null for CASE_SOLVED)."
    )
    occurred_at: datetime
    read: bool

    @classmethod
    def from_proto(cls, entry: anon.IndexEntry) -> Notification:
        return cls(
            id=strawberry.ID(entry.cursor),
            kind=NotificationKind(_kind(entry)),
            post_id=strawberry.ID(entry.post_id),
            comment_id=strawberry.ID(entry.comment_id) if entry.comment_id else None,
            occurred_at=_when(entry),
            read=entry.read,
        )


@strawberry.type
class NotificationConnection:
    nodes: list[Notification]
    edges: list[Edge[Notification]]
    page_info: PageInfo
    unread_count: int
    total_count: int

    @classmethod
    def from_proto(cls, reply: anon.ListNotificationsResponse) -> NotificationConnection:
        nodes = [Notification.from_proto(e) for e in reply.entries]
        cursors = [e.cursor for e in reply.entries]
        return cls(
            nodes=nodes,
            edges=edges(nodes, cursors),
            page_info=PageInfo.of(cursors, has_next_page=bool(reply.next_page_token)),
            unread_count=reply.unread_count,
            total_count=reply.total_count,
        )


@strawberry.type(
    description="One of the viewer's own posts or comments, with the visibility it was written "
    "under. Open it with `post(id: postId)`."
)
class ActivityItem:
    id: strawberry.ID = strawberry.field(description="Also its cursor.")
    kind: ActivityKind
    post_id: strawberry.ID
    comment_id: strawberry.ID | None
    occurred_at: datetime
    visibility: Visibility | None

    @classmethod
    def from_proto(cls, entry: anon.IndexEntry) -> ActivityItem:
        return cls(
            id=strawberry.ID(entry.cursor),
            kind=ActivityKind(_kind(entry)),
            post_id=strawberry.ID(entry.post_id),
            comment_id=strawberry.ID(entry.comment_id) if entry.comment_id else None,
            occurred_at=_when(entry),
            visibility=from_proto(Visibility, VISIBILITY, entry.visibility),
        )


@strawberry.type
class ActivityConnection:
    nodes: list[ActivityItem]
    edges: list[Edge[ActivityItem]]
    page_info: PageInfo

    @classmethod
    def from_proto(cls, reply: anon.ListActivityResponse) -> ActivityConnection:
        nodes = [ActivityItem.from_proto(e) for e in reply.entries]
        cursors = [e.cursor for e in reply.entries]
        return cls(
            nodes=nodes,
            edges=edges(nodes, cursors),
            page_info=PageInfo.of(cursors, has_next_page=bool(reply.next_page_token)),
        )
