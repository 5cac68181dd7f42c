"""The persona-attribute cache: one batched call for misses, expiry by TTL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from plumbing.auth import VerificationStatus
from services.anonymity.adapters.cache import CachedPersonaAttributes
from services.anonymity.domain.personas import PersonaAttributes


class FakeSource:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.count_calls = 0
        self.name_calls = 0

    async def attributes(self, user_ids: Iterable[str]) -> dict[str, PersonaAttributes]:
        wanted = list(user_ids)
        self.batches.append(wanted)
        return {
            u: PersonaAttributes(u, "n", VerificationStatus.VERIFIED, "207R00000X", False)
            for u in wanted
            if u != "usr_unknown"
        }

    async def verified_counts(self) -> Mapping[str, int]:
        self.count_calls += 1
        return {"207R00000X": self.count_calls}

    async def specialty_names(self) -> Mapping[str, str]:
        self.name_calls += 1
        return {"207R00000X": "Internal Medicine"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_misses_are_fetched_in_one_batch_and_hits_reused() -> None:
    source, clock = FakeSource(), Clock()
    cache = CachedPersonaAttributes(source, attributes_ttl=30, counts_ttl=60, clock=clock)
    first = await cache.attributes(["usr_a", "usr_b", "usr_a", "usr_unknown"])
    assert set(first) == {"usr_a", "usr_b"}
    assert source.batches == [["usr_a", "usr_b", "usr_unknown"]]
    await cache.attributes(["usr_a", "usr_unknown", "usr_c"])
    assert source.batches[1:] == [["usr_c"]]  # unknown ids are remembered as unknown too


async def test_entries_expire_after_their_ttl() -> None:
    source, clock = FakeSource(), Clock()
    cache = CachedPersonaAttributes(source, attributes_ttl=30, counts_ttl=60, clock=clock)
    await cache.attributes(["usr_a"])
    clock.now += 29
    await cache.attributes(["usr_a"])
    assert len(source.batches) == 1
    clock.now += 2
    await cache.attributes(["usr_a"])
    assert len(source.batches) == 2


async def test_counts_and_names_are_cached_for_their_ttl() -> None:
    source, clock = FakeSource(), Clock()
    cache = CachedPersonaAttributes(source, attributes_ttl=30, counts_ttl=60, clock=clock)
    assert await cache.verified_counts() == {"207R00000X": 1}
    await cache.specialty_names()
    clock.now += 59
    assert await cache.verified_counts() == {"207R00000X": 1}
    await cache.specialty_names()
    clock.now += 2
    assert await cache.verified_counts() == {"207R00000X": 2}
    await cache.specialty_names()
    assert source.name_calls == 2
