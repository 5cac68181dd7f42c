"""Viewer state without linking aliases: content answers per post, the gateway matches.

The viewer's own reaction and vote used to be asked of content with the viewer's thread
aliases of a whole page in one call, and an ANONYMOUS author's thread alias is their post
alias: one feed page linked their anonymous threads for content. Now content is asked
about posts only and returns, per post, the counts and the complete set of participants
(reactor alias ids with their reaction, voter alias ids); the gateway gets the viewer's
thread aliases from anonymity (which knows the viewer anyway) and looks them up here.

Sets come in pages of 200 per post. A set past that is paged to its end with the batched
`BatchListReactors` / `BatchListPollVoters` (post ids and cursors only, one call per round
for every open set), for every post, not only where the viewer took part: what content
sees then does not depend on who views, so it learns nothing about the viewer. The cost
grows with the participants of the posts shown (a 2,000-reaction post costs 9 more pages
in one call per round), acceptable at a physician network's scale; a cache shared by
viewers, invalidated by content's events, is the next step if it ever is not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import types_pb2 as types
from gateway.clients.content import ContentClient

#: A batched read takes at most this many posts (content's limit for participant reads).
MAX_POSTS = 100

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Reactions:
    """One post's reaction counts and every reactor."""

    summary: types.ReactionSummary
    reactors: dict[str, types.ReactionKind.ValueType]

    def of(self, alias_id: str | None) -> types.ReactionKind.ValueType | None:
        return self.reactors.get(alias_id) if alias_id else None


@dataclass(frozen=True, slots=True)
class PollResults:
    """One poll with every count and every voter."""

    poll: types.Poll
    voters: frozenset[str]

    def voted(self, alias_id: str | None) -> bool:
        return bool(alias_id) and alias_id in self.voters


async def _complete(
    first: dict[str, str],
    fetch: Callable[[list[tuple[str, str]]], Awaitable[dict[str, P]]],
    cursor: Callable[[P], str],
    collect: Callable[[str, P], None],
) -> None:
    """Pages every open set to its end: one batched call per round, post ids and cursors."""
    open_sets = {post: after for post, after in first.items() if after}
    while open_sets:
        queries = list(open_sets.items())
        pages: dict[str, P] = {}
        for start in range(0, len(queries), MAX_POSTS):
            pages.update(await fetch(queries[start : start + MAX_POSTS]))
        open_sets = {}
        for post, page in pages.items():
            collect(post, page)
            if cursor(page):
                open_sets[post] = cursor(page)


async def reactions(content: ContentClient, post_ids: list[str]) -> dict[str, Reactions]:
    return await complete_reactions(content, await content.reaction_summaries(post_ids))


async def complete_reactions(
    content: ContentClient, summaries: dict[str, types.ReactionSummary]
) -> dict[str, Reactions]:
    """Every reactor of the posts `summaries` (first pages, e.g. from BatchGetFeedCards) show."""
    found = {
        post: Reactions(s, {r.alias_id: r.kind for r in s.reactors})
        for post, s in summaries.items()
    }

    def collect(post: str, page: pb.ReactorPage) -> None:
        found[post].reactors.update({r.alias_id: r.kind for r in page.reactors})

    await _complete(
        {p: s.reactors_next_cursor for p, s in summaries.items()},
        content.reactor_pages,
        lambda page: page.next_cursor,
        collect,
    )
    return found


async def polls(content: ContentClient, post_ids: list[str]) -> dict[str, PollResults]:
    return await complete_polls(content, await content.polls(post_ids))


async def complete_polls(
    content: ContentClient, found: dict[str, types.Poll]
) -> dict[str, PollResults]:
    """Every voter of the polls `found` (first pages, e.g. from BatchGetFeedCards) show."""
    voters: dict[str, set[str]] = {p: set(poll.voter_alias_ids) for p, poll in found.items()}

    def collect(post: str, page: pb.VoterPage) -> None:
        voters[post].update(page.voter_alias_ids)

    await _complete(
        {p: poll.voters_next_cursor for p, poll in found.items()},
        content.voter_pages,
        lambda page: page.next_cursor,
        collect,
    )
    return {p: PollResults(poll, frozenset(voters[p])) for p, poll in found.items()}
