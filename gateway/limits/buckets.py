"""Token buckets per key, in this replica's memory: the rate limiter behind writes and callers.

A bucket holds up to `per_minute` tokens and refills at `per_minute` a minute; a request
takes one, or is told how many seconds until one is back. `RateLimiter` is the port: a shared
store (e.g. Redis) can implement the same `take` so every replica draws on one budget
(README, "Limits"). Keys are person ids or client addresses: never logged.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class RateLimiter(Protocol):
    """Spends one unit of a key's budget."""

    def take(self, key: str) -> float | None:
        """None when the key may go ahead (one unit spent), else seconds until it may."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """`RateLimiter` in memory: one bucket per key, at most `max_keys` of them.

    Past `max_keys`, buckets that have refilled are dropped first (they hold nothing a fresh
    one would not), then the least recently used: memory stays bounded under a flood of keys.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        burst: int | None = None,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 1:
            raise ValueError("a rate limit allows at least one request a minute")
        self._rate = per_minute / 60.0
        self._capacity = float(burst if burst is not None else per_minute)
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> float | None:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self._capacity, now)
            self._buckets[key] = bucket
            self._bound(now, keep=key)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.at) * self._rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self._rate

    def __len__(self) -> int:
        return len(self._buckets)

    def _bound(self, now: float, *, keep: str) -> None:
        if len(self._buckets) <= self._max_keys:
            return
        refilled = [
            k
            for k, b in self._buckets.items()
            if k != keep and b.tokens + (now - b.at) * self._rate >= self._capacity
        ]
        for key in refilled:
            del self._buckets[key]
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
