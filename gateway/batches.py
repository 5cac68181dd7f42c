"""The batch calls behind a page of posts, called straight by the look-ahead fetch.

A page of posts (the feed, search, a post) knows every key it needs at once, so it asks
each of these once per page, without a DataLoader: a DataLoader's per-key futures and
batch scheduling cost more than the call they save when the keys already come as one list.
The request's DataLoaders (gateway/loaders.py) stay for what resolves field by field
(mutations, subscriptions) and reach upstream through the same functions here.

What the viewer is to a page (their thread aliases, for their own reaction and vote, and
which authors are theirs, for `viewerIsAuthor`/`isViewer`) is one BatchGetThreadAliases
carrying the ownership question too: asked with the viewer's own token and user id only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from consilium.anonymity.v1 import anonymity_pb2 as anon
from consilium.content.v1 import content_pb2 as cpb
from consilium.content.v1 import types_pb2 as types
from gateway import viewer_state
from gateway.auth import Viewer
from gateway.author_batches import chunked
from gateway.caches import SharedCaches
from gateway.clients.anonymity import MAX_BATCH, AnonymityClient
from gateway.clients.content import (
    MAX_CARD_PAGES,
    MAX_CARD_POSTS,
    CardsAsked,
    ContentClient,
    FeedCards,
)
from gateway.clients.identity import IdentityClient
from gateway.tick_batch import TickBatch
from gateway.viewer_state import PollResults, Reactions

PageKey = tuple[str, int, str]
_SCOPE, _ALIAS = "scope", "alias"

__all__ = ["Batches", "Cards", "CardsAsked", "PageKey", "ViewerAliases"]


@dataclass(slots=True)
class Cards:
    """A page's cards, the participants of reactions and polls paged to their end; a part
    whose paging failed holds its error (only the fields reading it fail)."""

    counts: dict[str, int] = field(default_factory=dict)
    pages: dict[PageKey, cpb.CommentPage] = field(default_factory=dict)
    reactions: dict[str, Reactions] | Exception = field(default_factory=dict)
    polls: dict[str, PollResults] | Exception = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ViewerAliases:
    """The viewer's thread alias per scope (where they have one), and which asked aliases
    are theirs."""

    threads: dict[str, str]
    owned: frozenset[str]


class Batches:
    """One request's batch calls; no state of their own beyond the process's shared caches."""

    __slots__ = (
        "_anonymity",
        "_caches",
        "_cards",
        "_communities",
        "_content",
        "_follows",
        "_identity",
        "_personas",
        "_viewer",
        "_viewer_aliases",
    )

    def __init__(
        self,
        anonymity: AnonymityClient,
        content: ContentClient,
        viewer: Viewer | None,
        identity: IdentityClient | None,
        caches: SharedCaches,
    ) -> None:
        self._anonymity = anonymity
        self._content = content
        self._viewer = viewer
        self._identity = identity
        self._caches = caches
        # Pages resolved side by side (federation entities) share one call per tick.
        self._personas = TickBatch(self._fetch_personas)
        self._communities = TickBatch(self._fetch_communities)
        self._follows = TickBatch(self._fetch_follows)
        self._viewer_aliases = TickBatch(self._fetch_viewer_aliases)
        self._cards: dict[CardsAsked, TickBatch[str, Cards]] = {}

    async def personas(self, alias_ids: list[str]) -> dict[str, anon.Persona]:
        """Personas through the shared cache; misses in calls of at most 500."""
        return await self._personas(alias_ids)

    async def communities(self, community_ids: list[str]) -> dict[str, types.Community]:
        return await self._communities(community_ids)

    async def follows(self, community_ids: list[str]) -> dict[str, bool]:
        return await self._follows(community_ids)

    async def viewer_aliases(
        self, scope_ids: Sequence[str], alias_ids: Sequence[str]
    ) -> ViewerAliases:
        """The viewer's thread aliases in `scope_ids` and which of `alias_ids` they own, in
        one call (more only past 500 aliases); nothing for a signed-out request."""
        keys = [(_SCOPE, s) for s in scope_ids if s] + [(_ALIAS, a) for a in alias_ids if a]
        return await self._viewer_aliases(keys)

    async def cards(self, post_ids: Sequence[str], asked: CardsAsked) -> Cards:
        """The parts `asked` of `post_ids`' cards: one BatchGetFeedCards (more only past its
        limits), then the participants paged on."""
        batch = self._cards.get(asked)
        if batch is None:
            batch = self._cards[asked] = TickBatch(partial(self._fetch_cards, asked))
        return await batch(post_ids)

    async def _fetch_personas(self, alias_ids: list[str]) -> dict[str, anon.Persona]:
        shared = self._caches
        return await shared.personas.batch(alias_ids, self._describe, shared.persona_ttl)

    async def _describe(self, alias_ids: list[str]) -> dict[str, anon.Persona]:
        return await chunked(self._anonymity.describe, MAX_BATCH)(alias_ids)

    async def _fetch_communities(self, community_ids: list[str]) -> dict[str, types.Community]:
        return await self._caches.communities.batch(community_ids, self._content.communities_by_id)

    async def _fetch_follows(self, community_ids: list[str]) -> dict[str, bool]:
        if self._viewer is None or self._identity is None:
            return {c: False for c in community_ids}
        followed = set(await self._identity.followed(self._viewer.metadata))
        return {c: c in followed for c in community_ids}

    async def _fetch_viewer_aliases(self, keys: list[tuple[str, str]]) -> ViewerAliases:
        viewer = self._viewer
        scopes = [value for kind, value in keys if kind == _SCOPE]
        aliases = [value for kind, value in keys if kind == _ALIAS]
        if viewer is None or not (scopes or aliases):
            return ViewerAliases({}, frozenset())
        # Anonymity takes at most MAX_BATCH scope ids and MAX_BATCH alias ids per call.
        calls = [
            (scopes[i : i + MAX_BATCH], aliases[i : i + MAX_BATCH])
            for i in range(0, max(len(scopes), len(aliases)), MAX_BATCH)
        ]
        threads: dict[str, str] = {}
        owned: set[str] = set()
        answers = await asyncio.gather(
            *(
                self._anonymity.viewer_aliases(viewer.user_id, s, a, viewer.metadata)
                for s, a in calls
            )
        )
        for found, mine in answers:
            threads.update(found)
            owned.update(mine)
        return ViewerAliases(threads, frozenset(owned))

    async def _fetch_cards(self, asked: CardsAsked, post_ids: list[str]) -> Cards:
        posts = list(dict.fromkeys(post_ids))
        step = max(1, min(MAX_CARD_POSTS, MAX_CARD_PAGES // max(1, len(asked.pages))))
        parts = await asyncio.gather(
            *(
                self._content.feed_cards(
                    posts[start : start + step],
                    counts=asked.counts,
                    pages=list(asked.pages),
                    reactions=asked.reactions,
                    polls=asked.polls,
                )
                for start in range(0, len(posts), step)
            )
        )
        return await self.complete(parts)

    async def complete(self, parts: Sequence[FeedCards]) -> Cards:
        """`parts` (BatchGetFeedCards' answers, or what a page call carried) with every
        reactor and voter; paging them on is a call of its own, so it fails on its own."""
        cards = Cards()
        summaries: dict[str, types.ReactionSummary] = {}
        polls: dict[str, types.Poll] = {}
        for part in parts:
            cards.counts |= part.counts
            cards.pages |= part.pages
            summaries |= part.summaries
            polls |= part.polls
        try:
            cards.reactions = await viewer_state.complete_reactions(self._content, summaries)
        except Exception as error:  # kept for the fields that read it
            cards.reactions = error
        try:
            cards.polls = await viewer_state.complete_polls(self._content, polls)
        except Exception as error:  # kept for the fields that read it
            cards.polls = error
        return cards
