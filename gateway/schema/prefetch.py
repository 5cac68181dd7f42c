"""One look-ahead fetch for a page of posts: every batched call the selection needs, together.

Where posts are resolved (the feed, search, a post, federation entities), the selection
(gateway/schema/selection.py) says which calls the page needs; they leave at once
(asyncio.gather) through the request's DataLoaders, so the guarantee stays one call per
upstream RPC per request, whatever the page size, and shared caches answer what they hold.
The resolvers of posts, comments and authors then read plain values from `Fetched`: no
awaited field below the page. Authors of posts and of comments go in one persona call and
one ownership call: the comment pages come first, then their authors join the posts'.

A part that fails is kept as its error: the fields that read it raise it (null with an
UNAVAILABLE error where the schema allows, as before) and everything else still arrives.
Nothing is asked that the query did not select (anonymity learns no more than it shows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable, Iterable, Sequence
from typing import Generic, Protocol, TypeVar

from consilium.anonymity.v1 import anonymity_pb2 as anon
from consilium.content.v1 import content_pb2 as cpb
from consilium.content.v1 import types_pb2 as ctypes
from gateway.context import GatewayContext
from gateway.loaders import MAX_CARD_PAGES, MAX_CARD_POSTS
from gateway.schema.selection import CommentsShape, PostShape
from gateway.viewer_state import PollResults, Reactions

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
KC = TypeVar("KC", bound=Hashable, contravariant=True)
VC = TypeVar("VC", covariant=True)

PageKey = tuple[str, int, str]


class Part(Generic[K, V]):
    """One batched call's answers for the keys a selection needs, or the error it raised."""

    __slots__ = ("error", "found")

    def __init__(self) -> None:
        self.found: dict[K, V] = {}
        self.error: Exception | None = None

    def __contains__(self, key: K) -> bool:
        """Whether this part answers `key` (with a value or its error); if not, the field
        loads it itself (objects made outside a look-ahead fetch, e.g. by mutations)."""
        return self.error is not None or key in self.found

    def __getitem__(self, key: K) -> V:
        if self.error is not None:
            raise self.error
        return self.found[key]

    def get(self, key: K) -> V | None:
        """As `part[key]`, or None for a key it does not answer."""
        if self.error is not None:
            raise self.error
        return self.found.get(key)


class Fetched:
    """What the look-ahead fetch brought back for one page; empty parts answer nothing."""

    __slots__ = (
        "comment_counts",
        "comment_pages",
        "communities",
        "follows",
        "owned",
        "personas",
        "polls",
        "reactions",
        "thread_aliases",
    )

    def __init__(self) -> None:
        self.communities: Part[str, ctypes.Community | None] = Part()
        self.follows: Part[str, bool | None] = Part()
        self.personas: Part[str, anon.Persona | None] = Part()
        self.owned: Part[str, bool | None] = Part()
        self.comment_counts: Part[str, int | None] = Part()
        self.comment_pages: Part[PageKey, cpb.CommentPage | None] = Part()
        self.reactions: Part[str, Reactions | None] = Part()
        self.polls: Part[str, PollResults | None] = Part()
        self.thread_aliases: Part[str, str | None] = Part()


#: What objects made outside a look-ahead fetch read: nothing, so they load for themselves
#: (never filled: only a fresh `Fetched` is).
NOTHING = Fetched()


class _Loads(Protocol[KC, VC]):
    """A DataLoader, or one part of the feed-card loader (gateway/loaders.py CardPart)."""

    def load_many(self, keys: Iterable[KC], /) -> Awaitable[Sequence[VC]]: ...


async def _load(part: Part[K, V], loader: _Loads[K, V], keys: Sequence[K]) -> None:
    """Fills `part` with the loader's answers for `keys` (one batch), or with its error."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return
    try:
        values = await loader.load_many(unique)
    except Exception as error:  # kept for the fields that read it; the rest still arrives
        part.error = error
        return
    part.found.update(zip(unique, values, strict=True))


async def prefetch(
    context: GatewayContext, posts: Sequence[ctypes.Post], shape: PostShape
) -> Fetched:
    """Every batched call `shape` needs for `posts`, together; each part once per request."""
    fetched = Fetched()
    if not posts:
        return fetched
    loaders = context.loaders
    ids = [p.post_id for p in posts]
    polls = [p for p in posts if p.kind == ctypes.POST_KIND_POLL] if shape.poll else []
    # The viewer's thread aliases: for their reaction, and for their vote, which decides
    # whether a poll's counts are shown at all.
    viewed = [*(posts if shape.reactions and shape.viewer_reaction else []), *polls]
    pages = _pages(context, shape)
    # Two content parts or more come in one BatchGetFeedCards (one call, one read on content)
    # instead of one batch RPC each; a single part keeps its own RPC (the same cost).
    parts = [shape.comment_count, bool(pages), shape.reactions, bool(polls)]
    fat = sum(parts) >= 2 and len(ids) <= MAX_CARD_POSTS and len(ids) * len(pages) <= MAX_CARD_PAGES
    counts = loaders.card_counts if fat else loaders.comment_counts
    reactions = loaders.card_reactions if fat else loaders.reactions
    poll_results = loaders.card_polls if fat else loaders.polls

    jobs = [_authors(context, fetched, posts, shape, fat)]
    if shape.community:
        communities = [p.community_id for p in posts]
        jobs.append(_load(fetched.communities, loaders.communities, communities))
        if shape.follows:
            jobs.append(_load(fetched.follows, loaders.follows, communities))
    if shape.comment_count:
        jobs.append(_load(fetched.comment_counts, counts, ids))
    if shape.reactions:
        jobs.append(_load(fetched.reactions, reactions, ids))
    if polls:
        jobs.append(_load(fetched.polls, poll_results, [p.post_id for p in polls]))
    if viewed:
        scopes = [p.thread_scope_id for p in viewed]
        jobs.append(_load(fetched.thread_aliases, loaders.thread_aliases, scopes))
    await asyncio.gather(*jobs)
    return fetched


def _pages(context: GatewayContext, shape: PostShape) -> dict[tuple[int, str], CommentsShape]:
    """The comment pages the selection shows, by (first, after)."""
    largest = context.settings.max_page_size
    # A page size out of range is left to the field, which refuses it with its own error.
    return {key: page for key, page in shape.comments.items() if 1 <= key[0] <= largest}


async def _authors(
    context: GatewayContext,
    fetched: Fetched,
    posts: Sequence[ctypes.Post],
    shape: PostShape,
    fat: bool,
) -> None:
    """Comment pages first, then one persona and one ownership call for every author shown."""
    loaders = context.loaders
    mine = [p.author_alias_id for p in posts]
    personas = list(mine) if shape.personas else []
    owned = list(mine) if shape.owned else []
    pages = _pages(context, shape)
    if pages:
        keys = [(p.post_id, first, after) for (first, after) in pages for p in posts]
        part = fetched.comment_pages
        source: _Loads[PageKey, cpb.CommentPage | None]
        source = loaders.card_pages if fat else loaders.comment_pages
        await _load(part, source, keys)
        for post_id, first, after in keys if part.error is None else []:
            page, shows = part.found.get((post_id, first, after)), pages[(first, after)]
            if page is None or not (shows.personas or shows.owned):
                continue
            # As Comment.from_proto: a deleted comment shows no author, whatever content sent.
            authors = [c.author_alias_id for c in page.comments if not c.deleted]
            authors = [a for a in authors if a]
            personas.extend(authors if shows.personas else [])
            owned.extend(authors if shows.owned else [])
    await asyncio.gather(
        _load(fetched.personas, loaders.personas, personas),
        _load(fetched.owned, loaders.owned, owned),
    )
