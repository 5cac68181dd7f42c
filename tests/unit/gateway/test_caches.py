"""The shared caches: bounded, expiring, never keeping an IDENTIFIED name past its short TTL."""

from __future__ import annotations

from consilium.anonymity.v1 import anonymity_pb2 as anon
from gateway.caches import SharedCaches, TTLCache
from gateway.settings import GatewaySettings


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_and_the_least_recently_used_go_first() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(2, ttl=10, clock=clock)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    clock.now = 10
    assert cache.get("a") is None and len(cache) == 1
    assert (cache.hits, cache.misses) == (3, 2)


async def test_batch_asks_only_for_what_is_missing_and_forgets_unknown_keys() -> None:
    cache: TTLCache[str, str] = TTLCache(10, ttl=60)
    asked: list[list[str]] = []

    async def fetch(keys: list[str]) -> dict[str, str]:
        asked.append(keys)
        return {k: k.upper() for k in keys if k != "gone"}

    assert await cache.batch(["a", "gone"], fetch) == {"a": "A"}
    assert await cache.batch(["a", "b", "gone"], fetch) == {"a": "A", "b": "B"}
    assert await cache.batch(["a", "b"], fetch) == {"a": "A", "b": "B"}
    assert asked == [["a", "gone"], ["b", "gone"]]


async def test_an_identified_name_is_kept_only_for_its_short_ttl() -> None:
    """Erasure shreds an IDENTIFIED alias's display name and announces nothing: past the
    short TTL the gateway must ask anonymity again (and show the name no more)."""
    clock = Clock()
    settings = GatewaySettings(persona_cache_identified_ttl_seconds=30)
    caches = SharedCaches.from_settings(settings)
    caches.personas._clock = clock  # a test clock
    named = anon.Persona(
        alias_id="als_id", visibility=anon.Visibility.VISIBILITY_IDENTIFIED, display_name="Dr. X"
    )
    masked = anon.Persona(alias_id="als_ps", visibility=anon.Visibility.VISIBILITY_PSEUDONYMOUS)
    answers = {"als_id": named, "als_ps": masked}
    asked: list[list[str]] = []

    async def describe(keys: list[str]) -> dict[str, anon.Persona]:
        asked.append(sorted(keys))
        return {k: answers[k] for k in keys}

    await caches.personas.batch(["als_id", "als_ps"], describe, caches.persona_ttl)
    answers["als_id"] = anon.Persona(
        alias_id="als_id", visibility=anon.Visibility.VISIBILITY_IDENTIFIED
    )  # erased
    clock.now = 31
    found = await caches.personas.batch(["als_id", "als_ps"], describe, caches.persona_ttl)
    assert asked == [["als_id", "als_ps"], ["als_id"]]
    assert not found["als_id"].HasField("display_name")


def test_zero_entries_or_zero_ttl_keeps_nothing() -> None:
    caches = SharedCaches.from_settings(
        GatewaySettings(persona_cache_max_entries=0, community_cache_ttl_seconds=0)
    )
    caches.personas.put("a", anon.Persona(alias_id="a"))
    caches.communities.put("c", None)  # type: ignore[arg-type]
    assert len(caches.personas) == 0 and len(caches.communities) == 0
