"""Token buckets: a key's budget, its refill, its wait, and memory that stays bounded."""

from __future__ import annotations

import pytest

from gateway.limits.buckets import TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_budget_then_waits_for_one_token() -> None:
    clock = Clock()
    buckets = TokenBuckets(6, clock=clock)  # one token every 10 s
    assert [buckets.take("a") for _ in range(6)] == [None] * 6
    assert buckets.take("a") == pytest.approx(10.0)
    clock.now += 4
    assert buckets.take("a") == pytest.approx(6.0)
    clock.now += 6
    assert buckets.take("a") is None
    assert buckets.take("a") == pytest.approx(10.0)


def test_keys_do_not_share_a_budget() -> None:
    buckets = TokenBuckets(1, clock=Clock())
    assert buckets.take("a") is None
    assert buckets.take("a") is not None
    assert buckets.take("b") is None


def test_refill_stops_at_the_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(60, burst=2, clock=clock)
    buckets.take("a")
    clock.now += 3600
    assert [buckets.take("a") is None for _ in range(3)] == [True, True, False]


def test_memory_stays_bounded_under_a_flood_of_keys() -> None:
    clock = Clock()
    buckets = TokenBuckets(1, max_keys=10, clock=clock)
    for index in range(1000):
        # Every flood key spends its only token: none refills, so the oldest go first,
        # and the newest is never the one dropped.
        assert buckets.take(f"flood-{index}") is None
        assert buckets.take(f"flood-{index}") is not None
    assert len(buckets) <= 10
    refilled = TokenBuckets(1, max_keys=3, clock=clock)
    refilled.take("busy")
    clock.now += 120  # every bucket refills: dropping them loses nothing
    for index in range(50):
        assert refilled.take(f"new-{index}") is None
    assert len(refilled) <= 3


def test_a_limit_allows_at_least_one_request() -> None:
    with pytest.raises(ValueError):
        TokenBuckets(0)
