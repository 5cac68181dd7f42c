"""Reactions and poll votes: counts, participant pages, and results hidden until they count."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from services.content.domain.posts import Post

T = TypeVar("T")


class ReactionKind(enum.Enum):
    """Declared in display order; summaries list counts in this order."""

    LIKE = "LIKE"
    INSIGHTFUL = "INSIGHTFUL"
    AGREE = "AGREE"
    SUPPORT = "SUPPORT"


#: Participants (reactors, voters) per post in one page of a batch read. Past it, a cursor.
PARTICIPANT_PAGE = 200


@dataclass(frozen=True, slots=True)
class ParticipantPage(Generic[T]):
    """One page of one post's reactors or voters, ordered by alias id."""

    post_id: str
    items: tuple[T, ...]
    next_cursor: str


def participant_page(
    post_id: str, rows: Sequence[T], key: Callable[[T], str]
) -> ParticipantPage[T]:
    """`rows` holds up to PARTICIPANT_PAGE + 1 entries: one more means there is a next page."""
    items = tuple(rows[:PARTICIPANT_PAGE])
    more = len(rows) > PARTICIPANT_PAGE
    return ParticipantPage(post_id, items, key(items[-1]) if more else "")


@dataclass(frozen=True, slots=True)
class ReactionSummary:
    """Counts; `viewer_reaction` only for the one alias of a React call; `reactors` only for
    batch reads, which know no viewer (the gateway matches the viewer's alias itself)."""

    post_id: str
    counts: tuple[tuple[ReactionKind, int], ...]
    viewer_reaction: ReactionKind | None
    reactors: ParticipantPage[tuple[str, ReactionKind]] | None = None

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)


def summarise_reactions(
    post_id: str,
    counts: Mapping[ReactionKind, int],
    viewer_reaction: ReactionKind | None,
    reactors: ParticipantPage[tuple[str, ReactionKind]] | None = None,
) -> ReactionSummary:
    ordered = tuple((k, counts[k]) for k in ReactionKind if counts.get(k, 0) > 0)
    return ReactionSummary(post_id, ordered, viewer_reaction, reactors)


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
    #: Batch reads only (every count shown; the gateway hides them per viewer).
    voters: ParticipantPage[str] | None = None

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
    post: Post,
    tallies: Mapping[int, int],
    viewer_option: int | None,
    now: datetime,
    voters: ParticipantPage[str] | None = None,
) -> PollView:
    """With `voters` (a batch read for the gateway) every count is shown: the gateway, which
    knows the viewer, hides them until the viewer voted or the poll closed."""
    closed = is_closed(post, now)
    show = closed or viewer_option is not None or voters is not None
    options = tuple(
        PollOptionView(i, text, tallies.get(i, 0) if show else None)
        for i, text in enumerate(post.poll_options)
    )
    return PollView(post.post_id, options, viewer_option, post.poll_closes_at, closed, voters)
