"""One look-ahead fetch for a page of posts: every batched call the selection needs, together.

Where posts are resolved (the feed, search, a post, federation entities), the selection
(gateway/schema/selection.py) says which calls the page needs, and each is made once for
the page, straight through the batch calls (gateway/batches.py), not key by key through
DataLoaders: the keys already come as one list. So the guarantee stays one call per
upstream RPC per page, whatever its size, and shared caches answer what they hold. The
resolvers of posts, comments and authors then read plain values from `Fetched`: no awaited
field below the page.

Content first: what the cards show (counts, comment pages, reactions, polls) in one
BatchGetFeedCards, or carried by the page call itself (ListFeed, Search: `carried`). Then
the people: personas of post and comment authors in one call, and the viewer (their thread
aliases and which authors are theirs) in one BatchGetThreadAliases. The viewer call waits
for the comment pages only when their authors' ownership is shown.

A part that fails is kept as its error: the fields that read it raise it (null with an
UNAVAILABLE error where the schema allows, as before) and everything else still arrives.
Nothing is asked that the query did not select (anonymity learns no more than it shows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

from consilium.anonymity.v1 import anonymity_pb2 as anon
from consilium.content.v1 import content_pb2 as cpb
from consilium.content.v1 import types_pb2 as ctypes
from gateway.batches import Cards, CardsAsked, PageKey
from gateway.context import GatewayContext
from gateway.schema.selection import CommentsShape, PostShape
from gateway.viewer_state import PollResults, Reactions

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


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


def _fill(
    part: Part[K, V], keys: Sequence[K], found: Mapping[K, V] | Exception, missing: V
) -> None:
    """Answers every key of `keys` in `part` (`missing` for those `found` lacks), or keeps
    the error: a key left unanswered would make its field load it again."""
    if isinstance(found, Exception):
        part.error = found
        return
    for key in keys:
        part.found[key] = found.get(key, missing)


async def _call(
    part: Part[K, V],
    keys: Sequence[K],
    fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]],
    missing: V,
) -> None:
    """Fills `part` with one batch call's answers for `keys`, or with its error."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return
    try:
        found = await fetch(unique)
    except Exception as error:  # kept for the fields that read it; the rest still arrives
        part.error = error
        return
    _fill(part, unique, found, missing)


def cards_asked(context: GatewayContext, shape: PostShape) -> CardsAsked:
    """What the cards of a page with `shape` show. Polls are asked for whenever the
    selection shows them, whatever the posts' kinds: pages resolved side by side (entities)
    then ask alike and share one call, and a page call asks before it knows the kinds."""
    return CardsAsked(
        counts=shape.comment_count,
        pages=tuple(_pages(context, shape)),
        reactions=shape.reactions,
        polls=shape.poll,
    )


def page_cards(context: GatewayContext, shape: PostShape, first: int) -> CardsAsked | None:
    """What a page call (ListFeed, Search) of `first` posts should carry of their cards, if
    it can carry them all (else the look-ahead fetch asks BatchGetFeedCards)."""
    asked = cards_asked(context, shape)
    return asked if asked and asked.fits(first) else None


async def prefetch(
    context: GatewayContext,
    posts: Sequence[ctypes.Post],
    shape: PostShape,
    carried: Cards | None = None,
) -> Fetched:
    """Every batched call `shape` needs for `posts`, together, each once; `carried`: the
    cards the page call brought along (then content is not asked again)."""
    fetched = Fetched()
    if not posts:
        return fetched
    batches = context.loaders.batches
    jobs = [_content_then_people(context, fetched, posts, shape, carried)]
    if shape.community:
        communities = [p.community_id for p in posts]
        jobs.append(_call(fetched.communities, communities, batches.communities, None))
        if shape.follows:
            jobs.append(_call(fetched.follows, communities, batches.follows, False))
    await asyncio.gather(*jobs)
    return fetched


def _pages(context: GatewayContext, shape: PostShape) -> dict[tuple[int, str], CommentsShape]:
    """The comment pages the selection shows, by (first, after)."""
    largest = context.settings.max_page_size
    # A page size out of range is left to the field, which refuses it with its own error.
    return {key: page for key, page in shape.comments.items() if 1 <= key[0] <= largest}


async def _content_then_people(
    context: GatewayContext,
    fetched: Fetched,
    posts: Sequence[ctypes.Post],
    shape: PostShape,
    carried: Cards | None,
) -> None:
    """The cards, then one persona call and one viewer call for every author shown; the
    people do not wait for the cards when no comment author is shown."""
    pages = _pages(context, shape)
    polls = [p for p in posts if p.kind == ctypes.POST_KIND_POLL] if shape.poll else []
    asked = cards_asked(context, shape)
    content = _cards(context, fetched, posts, asked, carried)
    if any(p.personas or p.owned for p in pages.values()):
        await content
        await _people(context, fetched, posts, shape, pages, polls)
    else:
        await asyncio.gather(content, _people(context, fetched, posts, shape, {}, polls))


async def _cards(
    context: GatewayContext,
    fetched: Fetched,
    posts: Sequence[ctypes.Post],
    asked: CardsAsked,
    carried: Cards | None,
) -> None:
    if not asked:
        return
    ids = [p.post_id for p in posts]
    cards: Cards | Exception | None = carried
    if cards is None:
        try:
            cards = await context.loaders.batches.cards(ids, asked)
        except Exception as error:  # every card field fails; the rest still arrives
            cards = error
    failed = cards if isinstance(cards, Exception) else None
    if asked.counts:
        _fill(fetched.comment_counts, ids, failed or _of(cards).counts, 0)
    if asked.pages:
        keys = [(p, first, after) for (first, after) in asked.pages for p in ids]
        _fill(fetched.comment_pages, keys, failed or _of(cards).pages, None)
    if asked.reactions:
        _fill(fetched.reactions, ids, failed or _of(cards).reactions, None)
    if asked.polls:
        polls = [p.post_id for p in posts if p.kind == ctypes.POST_KIND_POLL]
        _fill(fetched.polls, polls, failed or _of(cards).polls, None)


def _of(cards: Cards | Exception) -> Cards:
    assert isinstance(cards, Cards)  # only reached when the call did not fail
    return cards


async def _people(
    context: GatewayContext,
    fetched: Fetched,
    posts: Sequence[ctypes.Post],
    shape: PostShape,
    pages: dict[tuple[int, str], CommentsShape],
    polls: Sequence[ctypes.Post],
) -> None:
    """Personas of every author shown in one call; the viewer's thread aliases (for their
    reaction and vote, which decides whether a poll's counts are shown at all) and their
    ownership of the authors shown in another."""
    mine = [p.author_alias_id for p in posts]
    personas = list(mine) if shape.personas else []
    owned = list(mine) if shape.owned else []
    part = fetched.comment_pages
    for (first, after), shows in pages.items() if part.error is None else ():
        if not (shows.personas or shows.owned):
            continue
        for post in posts:
            page = part.found.get((post.post_id, first, after))
            if page is None:
                continue
            # As Comment.from_proto: a deleted comment shows no author, whatever content sent.
            authors = [c.author_alias_id for c in page.comments if not c.deleted]
            authors = [a for a in authors if a]
            personas.extend(authors if shows.personas else [])
            owned.extend(authors if shows.owned else [])
    viewed = [*(posts if shape.reactions and shape.viewer_reaction else []), *polls]
    scopes = [p.thread_scope_id for p in viewed]
    batches = context.loaders.batches
    await asyncio.gather(
        _call(fetched.personas, personas, batches.personas, None),
        _viewer(context, fetched, scopes, owned),
    )


async def _viewer(
    context: GatewayContext, fetched: Fetched, scopes: list[str], owned: list[str]
) -> None:
    """One BatchGetThreadAliases for the viewer's thread aliases and ownership together."""
    scopes, owned = list(dict.fromkeys(scopes)), list(dict.fromkeys(owned))
    if not (scopes or owned):
        return
    try:
        found = await context.loaders.batches.viewer_aliases(scopes, owned)
    except Exception as error:  # kept for the fields that read it
        fetched.thread_aliases.error = fetched.owned.error = error
        return
    _fill(fetched.thread_aliases, scopes, found.threads, None)
    _fill(fetched.owned, owned, {a: a in found.owned for a in owned}, False)
