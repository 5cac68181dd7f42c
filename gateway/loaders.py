"""Per-request DataLoaders: every list field resolves with one batched call per upstream RPC."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from strawberry.dataloader import DataLoader

from consilium.anonymity.v1 import anonymity_pb2 as anon
from consilium.content.v1 import content_pb2 as cpb
from consilium.content.v1 import types_pb2 as types
from gateway.auth import Viewer
from gateway.clients.anonymity import AnonymityClient
from gateway.clients.content import ContentClient

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _loader(
    fetch: Callable[[list[K]], Awaitable[dict[K, V]]], missing: Callable[[K], V | None]
) -> DataLoader[K, V | None]:
    """A loader over a dict-returning batch call; keys it lacks get `missing(key)`."""

    async def load(keys: Sequence[K]) -> list[V | None]:
        unique = list(dict.fromkeys(keys))
        found = await fetch(unique)
        return [found[k] if k in found else missing(k) for k in keys]

    return DataLoader(load_fn=load)


@dataclass(frozen=True, slots=True)
class Loaders:
    personas: DataLoader[str, anon.Persona | None]
    posts: DataLoader[str, types.Post | None]
    communities: DataLoader[str, types.Community | None]
    comment_counts: DataLoader[str, int | None]
    comment_pages: DataLoader[tuple[str, int, str], cpb.CommentPage | None]
    owned: DataLoader[str, bool | None]
    thread_aliases: DataLoader[str, str | None]
    reactions: DataLoader[tuple[str, str], types.ReactionSummary | None]
    polls: DataLoader[tuple[str, str], types.Poll | None]

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
        ):
            loader.clear_all()


def create_loaders(
    anonymity: AnonymityClient, content: ContentClient, viewer: Viewer | None
) -> Loaders:
    """Fresh loaders for one request (their caches must never outlive it: they hold viewer data)."""

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

    thread_alias_loader = _loader(thread_aliases, lambda _k: None)

    async def viewer_aliases(keys: list[tuple[str, str]]) -> list[str]:
        found = await thread_alias_loader.load_many([scope for _, scope in keys])
        return sorted({a for a in found if a})

    async def reactions(
        keys: list[tuple[str, str]],
    ) -> dict[tuple[str, str], types.ReactionSummary]:
        summaries = await content.reaction_summaries(
            [post for post, _ in keys], await viewer_aliases(keys)
        )
        return {k: summaries[k[0]] for k in keys if k[0] in summaries}

    async def polls(keys: list[tuple[str, str]]) -> dict[tuple[str, str], types.Poll]:
        found = await content.polls([post for post, _ in keys], await viewer_aliases(keys))
        return {k: found[k[0]] for k in keys if k[0] in found}

    return Loaders(
        personas=_loader(anonymity.describe, lambda _k: None),
        posts=_loader(content.posts, lambda _k: None),
        communities=_loader(content.communities_by_id, lambda _k: None),
        comment_counts=_loader(content.comment_counts, lambda _k: 0),
        comment_pages=_loader(content.comment_pages, lambda _k: None),
        owned=_loader(owned, lambda _k: False),
        thread_aliases=thread_alias_loader,
        reactions=_loader(reactions, lambda _k: None),
        polls=_loader(polls, lambda _k: None),
    )
