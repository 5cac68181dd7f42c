"""Polls and reactions: results only for those who voted (or once the poll closed)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from consilium.content.v1 import types_pb2 as ctypes
from gateway.schema.types.enums import REACTION, Reaction, from_proto
from plumbing.timestamps import to_datetime


@strawberry.type
class PollOption:
    index: int
    text: str
    votes: int | None = strawberry.field(
        description="Null until the viewer voted or the poll closed."
    )


@strawberry.type
class Poll:
    options: list[PollOption]
    viewer_has_voted: bool
    closes_at: datetime | None
    total_votes: int | None

    @classmethod
    def from_proto(cls, poll: ctypes.Poll, *, viewer_has_voted: bool) -> Poll:
        """Counts only once the viewer has voted or the poll has closed: early results
        would sway votes. Content sends every count; this is where they are held back."""
        show = viewer_has_voted or poll.closed
        return cls(
            options=[
                PollOption(
                    index=o.index,
                    text=o.text,
                    votes=o.votes if show and o.HasField("votes") else None,
                )
                for o in poll.options
            ],
            viewer_has_voted=viewer_has_voted,
            closes_at=to_datetime(poll.closes_at) if poll.HasField("closes_at") else None,
            total_votes=poll.total_votes if show and poll.HasField("total_votes") else None,
        )


@strawberry.type
class ReactionCount:
    reaction: Reaction
    count: int


@strawberry.type
class ReactionSummary:
    total: int
    counts: list[ReactionCount]
    viewer_reaction: Reaction | None

    @classmethod
    def from_proto(
        cls, summary: ctypes.ReactionSummary | None, viewer_reaction: int | None
    ) -> ReactionSummary:
        """`viewer_reaction` is what the gateway matched for the viewer's thread alias."""
        if summary is None:
            return cls(total=0, counts=[], viewer_reaction=None)
        counts = []
        for c in summary.counts:
            kind = from_proto(Reaction, REACTION, c.kind)
            if kind is not None:
                counts.append(ReactionCount(reaction=kind, count=int(c.count)))
        return cls(
            total=int(summary.total),
            counts=counts,
            viewer_reaction=(
                from_proto(Reaction, REACTION, viewer_reaction) if viewer_reaction else None
            ),
        )
