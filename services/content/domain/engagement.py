"""Reactions and poll votes as one viewer sees them; results stay hidden until they count."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from services.content.domain.posts import Post


class ReactionKind(enum.Enum):
    """Declared in display order; summaries list counts in this order."""

    LIKE = "LIKE"
    INSIGHTFUL = "INSIGHTFUL"
    AGREE = "AGREE"
    SUPPORT = "SUPPORT"


@dataclass(frozen=True, slots=True)
class ReactionSummary:
    post_id: str
    counts: tuple[tuple[ReactionKind, int], ...]
    viewer_reaction: ReactionKind | None

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)


def summarise_reactions(
    post_id: str, counts: Mapping[ReactionKind, int], viewer_reaction: ReactionKind | None
) -> ReactionSummary:
    ordered = tuple((k, counts[k]) for k in ReactionKind if counts.get(k, 0) > 0)
    return ReactionSummary(post_id, ordered, viewer_reaction)


@dataclass(frozen=True, slots=True)
class PollOptionView:
    index: int
    text: str
    votes: int | None


@dataclass(frozen=True, slots=True)
class PollView:
    """A poll for one viewer: counts are None until the viewer voted or the poll closed,
    so early results cannot sway the vote."""

    post_id: str
    options: tuple[PollOptionView, ...]
    viewer_option: int | None
    closes_at: datetime | None
    closed: bool

    @property
    def viewer_has_voted(self) -> bool:
        return self.viewer_option is not None

    @property
    def total_votes(self) -> int | None:
        if not self.options or self.options[0].votes is None:
            return None
        return sum(o.votes or 0 for o in self.options)


def is_closed(post: Post, now: datetime) -> bool:
    return post.poll_closes_at is not None and post.poll_closes_at <= now


def poll_view(
    post: Post, tallies: Mapping[int, int], viewer_option: int | None, now: datetime
) -> PollView:
    closed = is_closed(post, now)
    show = closed or viewer_option is not None
    options = tuple(
        PollOptionView(i, text, tallies.get(i, 0) if show else None)
        for i, text in enumerate(post.poll_options)
    )
    return PollView(post.post_id, options, viewer_option, post.poll_closes_at, closed)
