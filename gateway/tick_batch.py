"""Calls made in one turn of the event loop, merged into one: a batch per tick, not per key.

A page of posts asks each batch call once (gateway/batches.py), but one request can hold
several pages resolved side by side (federation `_entities` resolves each Post reference
with its own look-ahead fetch). Their calls in the same tick share one upstream call, as a
DataLoader's loads would, with one future per caller instead of one per key, and no cache:
every caller gets the whole answer and picks its own keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from functools import partial
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


class TickBatch(Generic[K, R]):
    """`fetch` over the union of the keys asked in one tick; each caller gets its answer
    (or its error)."""

    __slots__ = ("_fetch", "_keys", "_running", "_waiters")

    def __init__(self, fetch: Callable[[list[K]], Awaitable[R]]) -> None:
        self._fetch = fetch
        self._keys: dict[K, None] = {}
        self._waiters: list[asyncio.Future[R]] = []
        self._running: set[asyncio.Future[R]] = set()

    async def __call__(self, keys: Iterable[K]) -> R:
        loop = asyncio.get_running_loop()
        if not self._waiters:
            # As a DataLoader dispatches: after the callers of this tick have asked.
            loop.call_soon(self._dispatch)
        self._keys.update(dict.fromkeys(keys))
        waiter: asyncio.Future[R] = loop.create_future()
        self._waiters.append(waiter)
        return await waiter

    def _dispatch(self) -> None:
        keys, waiters = list(self._keys), self._waiters
        self._keys, self._waiters = {}, []
        call = asyncio.ensure_future(self._fetch(keys))
        self._running.add(call)  # the loop keeps only a weak reference to a task
        call.add_done_callback(self._running.discard)
        call.add_done_callback(partial(_settle, waiters))


def _settle(waiters: list[asyncio.Future[R]], call: asyncio.Future[R]) -> None:
    for waiter in waiters:
        if waiter.done():  # its caller was cancelled
            continue
        if call.cancelled():
            waiter.cancel()
        elif (error := call.exception()) is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(call.result())
