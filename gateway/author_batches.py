"""One persona call and one ownership call per request, for post and comment authors together.

A DataLoader batches the keys asked for in one tick, so post authors (known with the posts)
and comment authors (known only once the comment pages are back) used to cost two calls of
each. Here a `comments` field whose selection shows authors holds the author loaders' first
batch until its page is back, then adds the page's authors to that batch; the authors'
own resolvers, asking later, find them already in flight. Nothing is asked that the query
did not select, so anonymity learns no more than before (ownership is asked only for what
`viewerIsAuthor`/`isViewer` shows).

Pages of posts (the feed, search, a post) no longer need the gate: their look-ahead fetch
(gateway/schema/prefetch.py) loads the comment pages first and their authors with the posts'.
It holds for posts made elsewhere (mutations, subscriptions), whose fields load themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from gateway.clients.anonymity import MAX_BATCH

V = TypeVar("V")


Fetch = Callable[[list[str]], Awaitable[dict[str, V]]]


class AuthorBatches:
    """A gate the author loaders wait at while comment pages that will add authors load."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self._max_batch = max_batch
        self._holds = 0
        self._open = asyncio.Event()
        self._open.set()
        self._personas: list[str] = []
        self._owned: list[str] = []
        self._gated: list[_Gated] = []

    def hold(self) -> None:
        """A comment page whose authors are selected is loading: keep the batch open."""
        self._holds += 1
        self._open.clear()

    def release(self, personas: Iterable[str], owned: Iterable[str]) -> None:
        """The page is back (or failed): its authors join the next batch of each kind."""
        self._personas.extend(personas)
        self._owned.extend(owned)
        self._holds -= 1
        if self._holds <= 0:
            self._holds = 0
            self._open.set()

    def reset(self) -> None:
        """Forgets what was asked (a WebSocket's next event must see fresh data)."""
        self._personas.clear()
        self._owned.clear()
        for gated in self._gated:
            gated.asked.clear()

    def personas(self, fetch: Fetch[V]) -> Fetch[V]:
        return self._gate(fetch, self._personas)

    def owned(self, fetch: Fetch[V]) -> Fetch[V]:
        return self._gate(fetch, self._owned)

    def _gate(self, fetch: Fetch[V], extras: list[str]) -> Fetch[V]:
        gated = _Gated(self._open, chunked(fetch, self._max_batch), extras)
        self._gated.append(gated)
        return gated.__call__


def chunked(fetch: Fetch[V], size: int) -> Fetch[V]:
    """`fetch` in calls of at most `size` keys, together (a page rarely needs more than one)."""

    async def chunked(keys: list[str]) -> dict[str, V]:
        if len(keys) <= size:
            return await fetch(keys)
        found: dict[str, V] = {}
        parts = [keys[i : i + size] for i in range(0, len(keys), size)]
        for part in await asyncio.gather(*(fetch(p) for p in parts)):
            found.update(part)
        return found

    return chunked


class _Gated:
    """A batch function that waits at the gate, asks for the announced extras too, and lets a
    later batch wait for keys an earlier one already asked (one call per request)."""

    def __init__(self, gate: asyncio.Event, fetch: Fetch[Any], extras: list[str]) -> None:
        self._gate = gate
        self._fetch = fetch
        self._extras = extras
        self.asked: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def __call__(self, keys: list[str]) -> dict[str, Any]:
        await self._gate.wait()
        if not self._extras and not self.asked:
            return await self._fetch(keys)  # no comment page announced authors
        wanted = list(dict.fromkeys([*keys, *self._extras]))
        self._extras.clear()
        new = [k for k in wanted if k not in self.asked]
        if new:
            call = asyncio.ensure_future(self._fetch(new))
            for key in new:
                self.asked[key] = call
        found: dict[str, Any] = {}
        for pending in {id(self.asked[k]): self.asked[k] for k in keys}.values():
            found.update(await pending)
        return {k: found[k] for k in keys if k in found}
