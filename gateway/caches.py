"""Process-wide caches of what no viewer changes: communities, specialties and frozen personas.

Per-request DataLoaders (gateway/loaders.py) batch the calls of one request; these caches let
requests share the answers that are the same for everyone, so a warm gateway asks anonymity
and content only for what is new. Nothing viewer-specific is ever stored here: ownership,
thread aliases, reactions and votes stay in the per-request loaders, and the physicians-only
rule is checked per request before any resolver reads a cache.

What is cached and why it may be:
- Communities and specialties change only by migration or seed: a TTL bounds how long a new
  one takes to appear, and a community id content does not know is never remembered.
- Personas are frozen when the alias is made (handle, verified flag, disclosed specialty,
  display name), with one exception: erasure shreds an IDENTIFIED alias's display name, and
  erasure announces nothing (announcing each alias at once would group one person's aliases,
  see protos/consilium/events/v1/anonymity_events.proto). So an IDENTIFIED persona is kept
  only `identified_ttl` seconds: that is the longest an erased name is still shown by one
  replica (0 keeps none). The persona's `state` (hidden or suspended by a moderator) may be
  as old as the TTL; the gateway never reads it: content hides what such an alias wrote.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from consilium.anonymity.v1 import anonymity_pb2 as anon
from consilium.content.v1 import types_pb2 as ctypes
from consilium.identity.v1 import identity_pb2 as ipb
from gateway.settings import GatewaySettings

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: The one key of a cache holding a whole list (all communities, all specialties).
ALL = "*"


class TTLCache(Generic[K, V]):
    """A bounded LRU map whose entries expire: the least recently used go first when full."""

    def __init__(
        self,
        max_entries: int,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        lifetime = self.ttl if ttl is None else ttl
        if lifetime <= 0 or self.max_entries <= 0:
            return
        self._entries[key] = (self._clock() + lifetime, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def discard(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    async def batch(
        self,
        keys: list[K],
        fetch: Callable[[list[K]], Awaitable[dict[K, V]]],
        ttl: Callable[[V], float] | None = None,
    ) -> dict[K, V]:
        """`fetch` over the keys not cached (one call, or none when all are); keys `fetch`
        does not answer are not remembered, so they are asked again next time."""
        found: dict[K, V] = {}
        missing: list[K] = []
        for key in keys:
            value = self.get(key)
            if value is None:
                missing.append(key)
            else:
                found[key] = value
        if missing:
            fetched = await fetch(missing)
            for key, value in fetched.items():
                self.put(key, value, ttl(value) if ttl is not None else None)
            found.update(fetched)
        return found

    async def one(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        """The cached value of `key`, or `fetch()`'s, remembered."""
        value = self.get(key)
        if value is None:
            value = await fetch()
            self.put(key, value)
        return value


@dataclass(frozen=True, slots=True)
class SharedCaches:
    """The caches one gateway process shares between all its requests and viewers."""

    communities: TTLCache[str, ctypes.Community]
    community_list: TTLCache[str, list[ctypes.Community]]
    specialties: TTLCache[str, list[ipb.Specialty]]
    personas: TTLCache[str, anon.Persona]
    identified_ttl: float

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> SharedCaches:
        community_ttl = settings.community_cache_ttl_seconds
        return cls(
            communities=TTLCache(settings.community_cache_max_entries, community_ttl),
            community_list=TTLCache(1, community_ttl),
            specialties=TTLCache(1, settings.specialty_cache_ttl_seconds),
            personas=TTLCache(
                settings.persona_cache_max_entries, settings.persona_cache_ttl_seconds
            ),
            identified_ttl=settings.persona_cache_identified_ttl_seconds,
        )

    @classmethod
    def disabled(cls) -> SharedCaches:
        """Caches that keep nothing: every read goes upstream (tests of the uncached path)."""
        return cls(
            communities=TTLCache(0, 0),
            community_list=TTLCache(0, 0),
            specialties=TTLCache(0, 0),
            personas=TTLCache(0, 0),
            identified_ttl=0,
        )

    def persona_ttl(self, persona: anon.Persona) -> float:
        """How long `persona` may be kept: an IDENTIFIED one's name can be erased unannounced."""
        if persona.visibility == anon.Visibility.VISIBILITY_IDENTIFIED or persona.HasField(
            "display_name"
        ):
            return min(self.identified_ttl, self.personas.ttl)
        return self.personas.ttl

    def stats(self) -> dict[str, tuple[int, int]]:
        """Cache name -> (hits, misses) since start: what the bench prints."""
        return {
            "communities": (self.communities.hits, self.communities.misses),
            "community_list": (self.community_list.hits, self.community_list.misses),
            "specialties": (self.specialties.hits, self.specialties.misses),
            "personas": (self.personas.hits, self.personas.misses),
        }
