"""Engagement use cases: reactions and poll votes, one per alias, results hidden until voted.

Batch reads know no viewer: they answer counts and participant pages (reactor and voter
alias ids) per post, so that content never receives two aliases of one person together;
the gateway, which knows the viewer's alias of each thread, computes viewer state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from plumbing.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.content.domain import ids
from services.content.domain.engagement import (
    PARTICIPANT_PAGE,
    ParticipantPage,
    PollView,
    ReactionKind,
    ReactionSummary,
    is_closed,
    participant_page,
    poll_view,
    summarise_reactions,
)
from services.content.domain.posts import Comment, Post, PostKind
from services.content.ports import ContentReader, ContentRepository, ContentStore
from services.content.service import (
    Page,
    check_batch,
    parse_comment_queries,
    post_id_violation,
    read_comment_pages,
    require,
)

log = logging.getLogger("consilium.content")

#: Posts per batch read of participants: 100 posts x 200 participants stays near 1 MB.
MAX_PARTICIPANT_POSTS = 100


async def _existing_post(repo: ContentRepository, post_id: str) -> Post:
    post = await repo.get_post(post_id)
    if post is None:
        raise NotFound("no post with that id")
    return post


class EngagementService:
    """Reactions and polls over a `ContentStore`."""

    def __init__(
        self, store: ContentStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._clock = clock

    async def react(
        self, post_id: str, alias_id: str, kind: ReactionKind | None
    ) -> ReactionSummary:
        """Sets the alias's one reaction on the post, replacing an earlier one."""
        require(
            post_id_violation(post_id),
            ids.opaque_id_violation(alias_id, "reactor_alias_id"),
            None
            if kind is not None
            else FieldViolation("kind", "is required: LIKE, INSIGHTFUL, AGREE or SUPPORT"),
        )
        assert kind is not None
        async with self._store.transaction() as repo:
            await _existing_post(repo, post_id)
            await repo.set_reaction(post_id, alias_id, kind, self._clock())
            return await self._summary(repo, post_id, [alias_id])

    async def retract(self, post_id: str, alias_id: str) -> ReactionSummary:
        require(post_id_violation(post_id), ids.opaque_id_violation(alias_id, "reactor_alias_id"))
        async with self._store.transaction() as repo:
            await _existing_post(repo, post_id)
            await repo.remove_reaction(post_id, alias_id)
            return await self._summary(repo, post_id, [alias_id])

    async def reaction_summaries(self, post_ids: Sequence[str]) -> list[ReactionSummary]:
        """One summary per known post: counts and the first page of its reactors."""
        wanted = check_batch(post_ids, "post_ids", MAX_PARTICIPANT_POSTS)
        async with self._store.reading() as repo:
            return await read_summaries(repo, wanted)

    async def list_reactors(
        self, queries: Sequence[tuple[str, str]]
    ) -> list[ParticipantPage[tuple[str, ReactionKind]]]:
        """Further pages of reactors, one per (post id, cursor) query, in the queries' order."""
        wanted = _check_pages(queries)
        async with self._store.reading() as repo:
            pages = []
            for post_id, after in wanted:
                rows = await repo.reactors([post_id], after, PARTICIPANT_PAGE + 1)
                pages.append(participant_page(post_id, rows.get(post_id, []), _alias))
        return pages

    async def list_voters(self, queries: Sequence[tuple[str, str]]) -> list[ParticipantPage[str]]:
        """Further pages of poll voters, one per (post id, cursor) query, in order."""
        wanted = _check_pages(queries)
        async with self._store.reading() as repo:
            pages = []
            for post_id, after in wanted:
                rows = await repo.voters([post_id], after, PARTICIPANT_PAGE + 1)
                pages.append(participant_page(post_id, rows.get(post_id, []), str))
        return pages

    async def _summary(
        self, repo: ContentRepository, post_id: str, viewers: list[str]
    ) -> ReactionSummary:
        counts = await repo.reaction_counts([post_id])
        mine = await repo.reactions_by([post_id], viewers)
        return summarise_reactions(post_id, counts.get(post_id, {}), mine.get(post_id))

    async def vote(self, post_id: str, voter_alias_id: str, option: int) -> PollView:
        """Casts the one, final vote of `voter_alias_id` (the voter's alias for this poll)."""
        require(
            post_id_violation(post_id), ids.opaque_id_violation(voter_alias_id, "voter_alias_id")
        )
        now = self._clock()
        async with self._store.transaction() as repo:
            post = await _existing_post(repo, post_id)
            if post.kind is not PostKind.POLL:
                raise InvalidArgument([FieldViolation("post_id", "is not a POLL post")])
            if not 0 <= option < len(post.poll_options):
                raise InvalidArgument(
                    [FieldViolation("option_index", f"must be 0 to {len(post.poll_options) - 1}")]
                )
            if is_closed(post, now):
                raise FailedPrecondition("the poll has closed; it takes no more votes")
            if not await repo.add_vote(post_id, voter_alias_id, option, now):
                raise FailedPrecondition(
                    "this alias has voted on this poll already; votes are final"
                )
            tallies = await repo.vote_tallies([post_id])
        log.info("poll vote cast")
        return poll_view(post, tallies.get(post_id, {}), option, now)

    async def polls(self, post_ids: Sequence[str]) -> tuple[list[PollView], list[str]]:
        """Polls with every count and the first page of voters; unknown, hidden and non-poll
        ids come back missing."""
        wanted = check_batch(post_ids, "post_ids", MAX_PARTICIPANT_POSTS)
        now = self._clock()
        async with self._store.reading() as repo:
            return await read_polls(repo, wanted, now)

    async def feed_cards(self, ask: CardsAsked) -> FeedCards:
        """What a page of feed cards shows, the parts asked for only, on one read (one
        connection): each part answered as its own batch RPC answers it."""
        wanted = check_batch(ask.post_ids, "post_ids", MAX_PARTICIPANT_POSTS)
        parsed = parse_comment_queries([(p, f, a) for f, a in ask.comment_pages for p in wanted])
        now = self._clock()
        cards = FeedCards()
        if not wanted:
            return cards
        async with self._store.reading() as repo:
            if ask.comment_counts:
                cards.counts = await repo.count_comments(wanted)
            if parsed:
                cards.pages = await read_comment_pages(repo, parsed)
            if ask.reactions:
                cards.summaries = await read_summaries(repo, wanted)
            if ask.polls:
                cards.polls, cards.missing_polls = await read_polls(repo, wanted, now, ask.posts)
        return cards


async def read_summaries(repo: ContentReader, wanted: list[str]) -> list[ReactionSummary]:
    """Reaction summaries of `wanted` (checked ids) on an open read."""
    counts = await repo.post_reaction_counts(wanted)
    present = [p for p in wanted if p in counts]
    reactors = await repo.reactors(present, "", PARTICIPANT_PAGE + 1)
    return [
        summarise_reactions(
            p, counts.get(p, {}), None, participant_page(p, reactors.get(p, []), _alias)
        )
        for p in present
    ]


async def read_polls(
    repo: ContentReader,
    wanted: list[str],
    now: datetime,
    known: Mapping[str, Post] | None = None,
) -> tuple[list[PollView], list[str]]:
    """Polls of `wanted` (checked ids) on an open read, and the ids that are none.
    `known`: the posts as the caller just read them (which are polls needs no second read)."""
    found = known if known is not None else await repo.get_posts(wanted)
    polls = [
        found[p]
        for p in wanted
        if p in found and found[p].kind is PostKind.POLL and not found[p].hidden
    ]
    present = [p.post_id for p in polls]
    tallies = await repo.vote_tallies(present)
    voters = await repo.voters(present, "", PARTICIPANT_PAGE + 1)
    views = [
        poll_view(
            p,
            tallies.get(p.post_id, {}),
            None,
            now,
            participant_page(p.post_id, voters.get(p.post_id, []), str),
        )
        for p in polls
    ]
    return views, [p for p in wanted if p not in present]


@dataclass(frozen=True, slots=True)
class CardsAsked:
    """Which parts of feed cards to read, for which posts."""

    post_ids: Sequence[str]
    comment_counts: bool = False
    #: (first, after) per comment page wanted of every post.
    comment_pages: Sequence[tuple[int, str]] = ()
    reactions: bool = False
    polls: bool = False
    #: The posts as the caller just read them (a page call's): which are polls needs no
    #: second read of the page's rows.
    posts: Mapping[str, Post] | None = None


@dataclass(slots=True)
class FeedCards:
    """The parts read; those not asked for stay empty."""

    counts: dict[str, int] = field(default_factory=dict)
    pages: list[tuple[str, Page[Comment]]] = field(default_factory=list)
    summaries: list[ReactionSummary] = field(default_factory=list)
    polls: list[PollView] = field(default_factory=list)
    missing_polls: list[str] = field(default_factory=list)


def _alias(reactor: tuple[str, ReactionKind]) -> str:
    return reactor[0]


def _check_pages(queries: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    if len(queries) > MAX_PARTICIPANT_POSTS:
        raise InvalidArgument(
            [FieldViolation("queries", f"at most {MAX_PARTICIPANT_POSTS} per call; split it")]
        )
    require(
        *(post_id_violation(p, f"queries[{i}].post_id") for i, (p, _) in enumerate(queries)),
        *(
            ids.opaque_id_violation(a, f"queries[{i}].after")
            for i, (_, a) in enumerate(queries)
            if a
        ),
    )
    return list(queries)
