"""Per-request DataLoaders: every list field resolves with one batched call per upstream RPC."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from strawberry.dataloader import DataLoader

from consilium.anonymity.v1 import anonymity_pb2 as anon
from consilium.content.v1 import content_pb2 as cpb
from consilium.content.v1 import types_pb2 as types
from gateway import viewer_state
from gateway.auth import Viewer
from gateway.author_batches import AuthorBatches
from gateway.caches import SharedCaches
from gateway.clients.anonymity import AnonymityClient
from gateway.clients.content import ContentClient
from gateway.clients.identity import IdentityClient
from gateway.viewer_state import PollResults, Reactions

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: A key of the feed-card loader: (part, post id, first, after); first and after for pages only.
CardKey = tuple[str, str, int, str]
COUNT, PAGE, REACTIONS, POLL = "count", "page", "reactions", "poll"
#: BatchGetFeedCards' limits: posts per call, and comment pages per call.
MAX_CARD_POSTS = 100
MAX_CARD_PAGES = 100


class CardPart(Generic[K, V]):
    """One part of the feed-card loader, loaded by its own keys (as its single loader is)."""

    __slots__ = ("_cards", "_key")

    def __init__(self, cards: DataLoader[CardKey, object], key: Callable[[K], CardKey]) -> None:
        self._cards = cards
        self._key = key

    async def load_many(self, keys: Iterable[K]) -> list[V]:
        return cast(list[V], await self._cards.load_many([self._key(k) for k in keys]))


def _loader(
    fetch: Callable[[list[K]], Awaitable[dict[K, V]]],
    missing: Callable[[K], V | None],
    max_batch: int | None = None,
) -> DataLoader[K, V | None]:
    """A loader over a dict-returning batch call; keys it lacks get `missing(key)`."""

    async def load(keys: Sequence[K]) -> list[V | None]:
        unique = list(dict.fromkeys(keys))
        found = await fetch(unique)
        return [found[k] if k in found else missing(k) for k in keys]

    return DataLoader(load_fn=load, max_batch_size=max_batch)


@dataclass(frozen=True, slots=True)
class Loaders:
    personas: DataLoader[str, anon.Persona | None]
    posts: DataLoader[str, types.Post | None]
    communities: DataLoader[str, types.Community | None]
    comment_counts: DataLoader[str, int | None]
    comment_pages: DataLoader[tuple[str, int, str], cpb.CommentPage | None]
    owned: DataLoader[str, bool | None]
    thread_aliases: DataLoader[str, str | None]
    reactions: DataLoader[str, Reactions | None]
    polls: DataLoader[str, PollResults | None]
    #: Community id -> whether the viewer follows it (one ListFollowedCommunities a batch).
    follows: DataLoader[str, bool | None]
    #: Every part of `BatchGetFeedCards` at once (CardKey -> that part's value); the look-ahead
    #: fetch reads through it when a page needs two parts or more (see `card_*`).
    cards: DataLoader[CardKey, object]
    #: Lets comment authors join the post authors' persona and ownership calls.
    authors: AuthorBatches

    @property
    def card_counts(self) -> CardPart[str, int | None]:
        return CardPart(self.cards, lambda post: (COUNT, post, 0, ""))

    @property
    def card_pages(self) -> CardPart[tuple[str, int, str], cpb.CommentPage | None]:
        return CardPart(self.cards, lambda key: (PAGE, *key))

    @property
    def card_reactions(self) -> CardPart[str, Reactions | None]:
        return CardPart(self.cards, lambda post: (REACTIONS, post, 0, ""))

    @property
    def card_polls(self) -> CardPart[str, PollResults | None]:
        return CardPart(self.cards, lambda post: (POLL, post, 0, ""))

    def clear(self) -> None:
        """Forgets everything loaded: a WebSocket keeps one context for its whole life, and
        each subscription event (or operation) must see fresh data."""
        for loader in (
            self.personas,
            self.posts,
            self.communities,
            self.comment_counts,
            self.comment_pages,
            self.owned,
            self.thread_aliases,
            self.reactions,
            self.polls,
            self.follows,
            self.cards,
        ):
            loader.clear_all()
        self.authors.reset()


def create_loaders(
    anonymity: AnonymityClient,
    content: ContentClient,
    viewer: Viewer | None,
    identity: IdentityClient | None = None,
    caches: SharedCaches | None = None,
) -> Loaders:
    """Fresh loaders for one request (their caches must never outlive it: they hold viewer data).

    `caches` are the process's shared ones (gateway/caches.py) for personas and communities,
    which no viewer changes; without them every read goes upstream.
    """
    shared = caches or SharedCaches.disabled()
    authors = AuthorBatches()

    async def personas(alias_ids: list[str]) -> dict[str, anon.Persona]:
        return await shared.personas.batch(alias_ids, anonymity.describe, shared.persona_ttl)

    async def communities(community_ids: list[str]) -> dict[str, types.Community]:
        return await shared.communities.batch(community_ids, content.communities_by_id)

    async def follows(community_ids: list[str]) -> dict[str, bool]:
        if viewer is None or identity is None:
            return {c: False for c in community_ids}
        followed = set(await identity.followed(viewer.metadata))
        return {c: c in followed for c in community_ids}

    async def owned(alias_ids: list[str]) -> dict[str, bool]:
        if viewer is None:
            return {a: False for a in alias_ids}
        mine = await anonymity.owned(viewer.user_id, alias_ids, viewer.metadata)
        return {a: a in mine for a in alias_ids}

    async def thread_aliases(scope_ids: list[str]) -> dict[str, str]:
        if viewer is None:
            return {}
        scopes = [s for s in scope_ids if s]
        return (
            await anonymity.thread_aliases(viewer.user_id, scopes, viewer.metadata)
            if scopes
            else {}
        )

    # Reactions and polls are loaded by post id alone and matched against the viewer's
    # thread aliases here (gateway/viewer_state.py): content never gets the viewer's aliases.
    async def reactions(post_ids: list[str]) -> dict[str, Reactions]:
        return await viewer_state.reactions(content, post_ids)

    async def polls(post_ids: list[str]) -> dict[str, PollResults]:
        return await viewer_state.polls(content, post_ids)

    async def cards(keys: Sequence[CardKey]) -> list[object]:
        return await _cards(content, keys)

    return Loaders(
        personas=_loader(authors.personas(personas), lambda _k: None),
        posts=_loader(content.posts, lambda _k: None),
        communities=_loader(communities, lambda _k: None),
        comment_counts=_loader(content.comment_counts, lambda _k: 0),
        comment_pages=_loader(content.comment_pages, lambda _k: None),
        owned=_loader(authors.owned(owned), lambda _k: False),
        thread_aliases=_loader(thread_aliases, lambda _k: None),
        reactions=_loader(reactions, lambda _k: None, max_batch=viewer_state.MAX_POSTS),
        polls=_loader(polls, lambda _k: None, max_batch=viewer_state.MAX_POSTS),
        follows=_loader(follows, lambda _k: False),
        cards=DataLoader(load_fn=cards),
        authors=authors,
    )


async def _cards(content: ContentClient, keys: Sequence[CardKey]) -> list[object]:
    """One BatchGetFeedCards for every part the keys name (more only past its limits); the
    viewer's reaction and vote are then matched here, as the single loaders do."""
    kinds = {k[0] for k in keys}
    posts = list(dict.fromkeys(k[1] for k in keys))
    args = list(dict.fromkeys((k[2], k[3]) for k in keys if k[0] == PAGE))
    step = max(1, min(MAX_CARD_POSTS, MAX_CARD_PAGES // max(1, len(args))))
    counts: dict[str, int] = {}
    pages: dict[tuple[str, int, str], cpb.CommentPage] = {}
    summaries: dict[str, types.ReactionSummary] = {}
    polls: dict[str, types.Poll] = {}
    for start in range(0, len(posts), step):
        part = await content.feed_cards(
            posts[start : start + step],
            counts=COUNT in kinds,
            pages=args,
            reactions=REACTIONS in kinds,
            polls=POLL in kinds,
        )
        counts |= part.counts
        pages |= part.pages
        summaries |= part.summaries
        polls |= part.polls
    # Paging the participants on is a call of its own: if it fails, only that part fails.
    reactions: dict[str, Reactions] | Exception = {}
    results: dict[str, PollResults] | Exception = {}
    try:
        reactions = await viewer_state.complete_reactions(content, summaries)
    except Exception as error:  # kept for the fields that read it
        reactions = error
    try:
        results = await viewer_state.complete_polls(content, polls)
    except Exception as error:  # kept for the fields that read it
        results = error
    answers: list[object] = []
    for kind, post, first, after in keys:
        if kind == COUNT:
            answers.append(counts.get(post, 0))
        elif kind == PAGE:
            answers.append(pages.get((post, first, after)))
        else:
            found = reactions if kind == REACTIONS else results
            answers.append(found if isinstance(found, Exception) else found.get(post))
    return answers
