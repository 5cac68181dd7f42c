"""The sign-in throttle's rules: when failures start to cost waiting time, and how much."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.identity.domain.throttle import (
    LoginThrottle,
    ThrottlePolicy,
    ThrottleScope,
    ThrottleState,
)

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(
    attempts=3,
    backoff=timedelta(seconds=30),
    max_backoff=timedelta(seconds=200),
    forget_after=timedelta(hours=1),
)


def fail(state: ThrottleState, times: int, at: datetime) -> ThrottleState:
    for _ in range(times):
        state = state.after_failure(POLICY, at)
    return state


def test_failures_below_the_threshold_cost_nothing() -> None:
    state = fail(ThrottleState(), 2, T0)
    assert state.failures == 2
    assert state.wait(T0) is None


def test_the_threshold_failure_blocks_for_the_backoff() -> None:
    state = fail(ThrottleState(), 3, T0)
    assert state.wait(T0) == timedelta(seconds=30)
    assert state.wait(T0 + timedelta(seconds=29)) == timedelta(seconds=1)
    assert state.wait(T0 + timedelta(seconds=30)) is None


def test_each_further_failure_doubles_the_wait_up_to_the_cap() -> None:
    assert [POLICY.delay(n).total_seconds() for n in range(1, 8)] == [0, 0, 30, 60, 120, 200, 200]
    assert POLICY.delay(10_000) == timedelta(seconds=200)


def test_a_quiet_hour_forgets_the_count() -> None:
    state = fail(ThrottleState(), 3, T0)
    later = T0 + timedelta(hours=1, seconds=1)
    assert state.forgotten(POLICY, later)
    assert state.after_failure(POLICY, later).failures == 1


def test_a_block_is_not_forgotten_while_it_lasts() -> None:
    long = ThrottlePolicy(1, timedelta(hours=2), timedelta(hours=2), timedelta(minutes=1))
    state = ThrottleState().after_failure(long, T0)
    assert not state.forgotten(long, T0 + timedelta(minutes=30))


def test_the_longest_wait_of_either_key_wins() -> None:
    throttle = LoginThrottle(per_address=POLICY, per_email=POLICY)
    states = {
        ThrottleScope.EMAIL: fail(ThrottleState(), 4, T0),
        ThrottleScope.EMAIL_AND_ADDRESS: fail(ThrottleState(), 3, T0),
    }
    assert throttle.wait(states, T0) == timedelta(seconds=60)
    assert throttle.wait({ThrottleScope.EMAIL: ThrottleState()}, T0) is None


@pytest.mark.parametrize(
    ("attempts", "backoff", "ceiling"),
    [(0, 30, 60), (3, 0, 60), (3, 60, 30)],
)
def test_nonsense_policies_are_refused(attempts: int, backoff: int, ceiling: int) -> None:
    with pytest.raises(ValueError):
        ThrottlePolicy(
            attempts, timedelta(seconds=backoff), timedelta(seconds=ceiling), timedelta(hours=1)
        )
