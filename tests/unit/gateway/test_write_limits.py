"""Writes per person: one budget for all of a person's writes, keyed on the person, never an alias."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.auth import Viewer
from gateway.limits.admission import retry_after_seconds
from gateway.limits.buckets import TokenBuckets
from gateway.limits.writes import WriteLimit
from gateway.view import retry_after
from plumbing.auth import AccessClaims, Role, VerificationStatus
from plumbing.errors import RateLimited


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


class Recording:
    """A limiter that remembers every key it was asked about."""

    def __init__(self, inner: TokenBuckets) -> None:
        self.inner = inner
        self.keys: list[str] = []

    def take(self, key: str) -> float | None:
        self.keys.append(key)
        return self.inner.take(key)


def viewer(user_id: str) -> Viewer:
    now = datetime.now(UTC)
    claims = AccessClaims(
        user_id=user_id,
        roles=frozenset({Role.MEMBER}),
        verification=VerificationStatus.VERIFIED,
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        key_id="k",
    )
    return Viewer(claims, f"token-of-{user_id}")


def test_a_person_writes_their_budget_then_is_told_when_to_come_back() -> None:
    clock = Clock()
    limit = WriteLimit(TokenBuckets(3, clock=clock), 3)  # a write every 20 s, 3 at once
    alice = viewer("usr_alice")
    for _ in range(3):
        limit.spend(alice)
    with pytest.raises(RateLimited) as refused:
        limit.spend(alice)
    assert refused.value.retry_after == 20
    assert "3 posts, comments, reactions and votes a minute" in refused.value.message
    clock.now += 19.5
    with pytest.raises(RateLimited) as again:
        limit.spend(alice)
    assert again.value.retry_after == 1  # half a second left: rounded up, never 0
    clock.now += 0.5
    limit.spend(alice)


def test_people_do_not_share_a_budget() -> None:
    limit = WriteLimit(TokenBuckets(1, clock=Clock()), 1)
    limit.spend(viewer("usr_alice"))
    with pytest.raises(RateLimited):
        limit.spend(viewer("usr_alice"))
    limit.spend(viewer("usr_bob"))


def test_the_budget_is_keyed_on_the_person_and_names_no_one() -> None:
    """Keyed per alias, a person's aliases would drain together for whoever watches the
    counters; and the refusal goes to the client, so it carries no id either."""
    limiter = Recording(TokenBuckets(2, clock=Clock()))
    limit = WriteLimit(limiter, 2)
    alice = viewer("usr_alice")
    limit.spend(alice)
    limit.spend(alice)
    with pytest.raises(RateLimited) as refused:
        limit.spend(alice)
    assert limiter.keys == ["usr_alice"] * 3
    assert "usr_alice" not in refused.value.message
    assert alice.token not in refused.value.message


@pytest.mark.parametrize(("wait", "seconds"), [(0.0, 1), (0.2, 1), (1.0, 1), (10.01, 11)])
def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one(
    wait: float, seconds: int
) -> None:
    assert retry_after_seconds(wait) == seconds


def test_the_retry_after_header_is_the_longest_rate_limited_wait() -> None:
    body = {
        "data": None,
        "errors": [
            {"extensions": {"code": "RATE_LIMITED", "retryAfter": 4}},
            {"extensions": {"code": "UNAVAILABLE"}},
            {"extensions": {"code": "RATE_LIMITED", "retryAfter": 12}},
            {"extensions": {"code": "NOT_FOUND", "retryAfter": 99}},  # not a rate limit
        ],
    }
    assert retry_after(body) == 12
    assert retry_after({"data": {"feed": []}}) is None
    assert retry_after({"errors": [{"extensions": {"code": "RATE_LIMITED"}}]}) is None
    assert retry_after([{"errors": []}]) is None
