"""Login throttling rules: how failed sign-ins turn into exponential waits, per key.

Two keys count every failed sign-in: the email alone, and the email with the client's
address. The pair throttles a guesser at one address quickly; the email alone has a much
higher threshold, so a guesser at one address cannot lock the doctor out everywhere, while a
guesser spread over many addresses still meets a wall. The rules are the same whether or not
an account has that email: throttling must not tell which emails are registered.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta


class ThrottleScope(enum.Enum):
    """What a throttle key counts."""

    EMAIL = "email"
    EMAIL_AND_ADDRESS = "email+address"


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """When one key's failures start to cost waiting time, and how much.

    The `attempts`-th failure in a row (counted since `forget_after` of quiet) blocks the key
    for `backoff`; each further failure after the wait doubles it, up to `max_backoff`.
    """

    attempts: int
    backoff: timedelta
    max_backoff: timedelta
    forget_after: timedelta

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a throttle needs at least one allowed attempt")
        if self.backoff <= timedelta(0) or self.max_backoff < self.backoff:
            raise ValueError("backoff must be positive and at most max_backoff")

    def delay(self, failures: int) -> timedelta:
        """How long the key waits after its `failures`-th failure (zero below the threshold)."""
        if failures < self.attempts:
            return timedelta(0)
        doublings = min(failures - self.attempts, 32)  # 2**32 backoffs exceed any cap
        grown: timedelta = self.backoff * (1 << doublings)
        return min(grown, self.max_backoff)


@dataclass(frozen=True, slots=True)
class ThrottleState:
    """One key's failures in a row, when the last was, and until when it is blocked."""

    failures: int = 0
    last_failure_at: datetime | None = None
    blocked_until: datetime | None = None

    def wait(self, now: datetime) -> timedelta | None:
        """The time left to wait, or None when the key may try now."""
        if self.blocked_until is not None and self.blocked_until > now:
            return self.blocked_until - now
        return None

    def after_failure(self, policy: ThrottlePolicy, now: datetime) -> ThrottleState:
        """The state once one more failure is counted at `now`."""
        quiet = self.last_failure_at is None or now - self.last_failure_at > policy.forget_after
        failures = 1 if quiet else self.failures + 1
        delay = policy.delay(failures)
        return replace(
            self,
            failures=failures,
            last_failure_at=now,
            blocked_until=now + delay if delay else None,
        )

    def forgotten(self, policy: ThrottlePolicy, now: datetime) -> bool:
        """Whether nothing of this state matters any more (it may be deleted)."""
        return self.wait(now) is None and (
            self.last_failure_at is None or now - self.last_failure_at > policy.forget_after
        )


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """The policies of both keys (settings: 5 failures from one address, 50 in all)."""

    per_address: ThrottlePolicy
    per_email: ThrottlePolicy

    def policy(self, scope: ThrottleScope) -> ThrottlePolicy:
        return self.per_email if scope is ThrottleScope.EMAIL else self.per_address

    def wait(self, states: dict[ThrottleScope, ThrottleState], now: datetime) -> timedelta | None:
        """The longest wait any of the keys imposes, or None when sign-in may be tried."""
        waits = [w for w in (s.wait(now) for s in states.values()) if w is not None]
        return max(waits) if waits else None
