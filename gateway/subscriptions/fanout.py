"""Bounded fan-out: each subscriber has its own queue, and one that falls behind is ended alone."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from typing import Generic, TypeVar

from plumbing.errors import DomainError, Unavailable

T = TypeVar("T")


class _End:
    """Queued last: wakes a waiting subscriber to raise why its subscription ended."""

    __slots__ = ("error",)

    def __init__(self, error: DomainError) -> None:
        self.error = error


class Subscriber(Generic[T]):
    """One subscription's view of the feed: items in the order offered, at most `capacity`
    unread. Offering to a full subscriber ends it; the publisher never waits."""

    def __init__(
        self, fanout: Fanout[T], key: str, capacity: int, owner_token: str | None = None
    ) -> None:
        self._fanout = fanout
        self.key = key
        #: The viewer's access token when its selection shows authorship (viewerIsAuthor,
        #: isViewer): the feed asks anonymity once per event for all such subscribers.
        self.owner_token = owner_token
        self._capacity = capacity
        # One slot more than the capacity, so the end marker always fits.
        self._queue: asyncio.Queue[T | _End] = asyncio.Queue(maxsize=capacity + 1)
        self.ended: DomainError | None = None

    def offer(self, item: T) -> None:
        if self.ended is not None:
            return
        if self._queue.qsize() >= self._capacity:
            self.end(
                Unavailable(
                    f"this subscription fell more than {self._capacity} events behind and was "
                    "ended; subscribe again, and query the feed for what was missed"
                )
            )
            return
        self._queue.put_nowait(item)

    def end(self, error: DomainError) -> None:
        """Ends the subscription: unread items are dropped, the next `get` raises `error`."""
        if self.ended is not None:
            return
        self.ended = error
        self._fanout.remove(self)
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(_End(error))

    async def get(self) -> T:
        item = await self._queue.get()
        if isinstance(item, _End):
            self._queue.put_nowait(item)  # every later `get` raises too
            raise item.error
        return item

    def close(self) -> None:
        """The client went away (or the subscription completed): stop offering to it."""
        self.ended = self.ended or Unavailable("the subscription is closed")
        self._fanout.remove(self)


class Fanout(Generic[T]):
    """Subscribers by key (a community, a post): `publish` reaches only the ones listening."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._by_key: defaultdict[str, set[Subscriber[T]]] = defaultdict(set)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def subscribe(self, key: str, owner_token: str | None = None) -> Subscriber[T]:
        subscriber = Subscriber(self, key, self._capacity, owner_token)
        self._by_key[key].add(subscriber)
        self._count += 1
        return subscriber

    def remove(self, subscriber: Subscriber[T]) -> None:
        listeners = self._by_key.get(subscriber.key)
        if listeners is None or subscriber not in listeners:
            return
        listeners.discard(subscriber)
        self._count -= 1
        if not listeners:
            del self._by_key[subscriber.key]

    def wants(self, keys: Iterable[str]) -> bool:
        """Whether anyone listens on one of `keys` (so the event is worth resolving)."""
        return any(key in self._by_key for key in keys)

    def owner_tokens(self, keys: Iterable[str]) -> list[str]:
        """The distinct tokens of the subscribers on `keys` that show authorship."""
        tokens: dict[str, None] = {}
        for key in dict.fromkeys(keys):
            for subscriber in self._by_key.get(key, ()):
                if subscriber.owner_token is not None:
                    tokens[subscriber.owner_token] = None
        return list(tokens)

    def publish(self, keys: Iterable[str], item: T) -> None:
        # A copy: a subscriber that overflows removes itself while we iterate.
        for key in dict.fromkeys(keys):
            for subscriber in list(self._by_key.get(key, ())):
                subscriber.offer(item)

    def end_all(self, error: DomainError) -> None:
        for listeners in list(self._by_key.values()):
            for subscriber in list(listeners):
                subscriber.end(error)
