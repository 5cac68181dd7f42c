"""Per-request DataLoaders: every list field resolves with one batched call per upstream RPC."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from strawberry.dataloader import DataLoader

from consilium.anonymity.v1 import anonymity_pb2 as anon
from consilium.content.v1 import content_pb2 as cpb
from consilium.content.v1 import types_pb2 as types
from gateway import viewer_state
from gateway.auth import Viewer
from gateway.author_batches import AuthorBatches
from gateway.batches import Batches
from gateway.caches import SharedCaches
from gateway.clients.anonymity import AnonymityClient
from gateway.clients.content import ContentClient
from gateway.clients.identity import IdentityClient
from gateway.viewer_state import PollResults, Reactions

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


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
    #: Lets comment authors join the post authors' persona and ownership calls.
    authors: AuthorBatches
    #: The same batch calls, called straight by a page's look-ahead fetch (gateway/batches.py).
    batches: Batches

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
    batches = Batches(anonymity, content, viewer, identity, shared)

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

    return Loaders(
        personas=_loader(authors.personas(batches.personas), lambda _k: None),
        posts=_loader(content.posts, lambda _k: None),
        communities=_loader(batches.communities, lambda _k: None),
        comment_counts=_loader(content.comment_counts, lambda _k: 0),
        comment_pages=_loader(content.comment_pages, lambda _k: None),
        owned=_loader(authors.owned(owned), lambda _k: False),
        thread_aliases=_loader(thread_aliases, lambda _k: None),
        reactions=_loader(reactions, lambda _k: None, max_batch=viewer_state.MAX_POSTS),
        polls=_loader(polls, lambda _k: None, max_batch=viewer_state.MAX_POSTS),
        follows=_loader(batches.follows, lambda _k: False),
        authors=authors,
        batches=batches,
    )
