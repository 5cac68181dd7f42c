"""Writes per person per minute: posts, comments, reactions and votes share one budget.

Keyed on the signed-in person's user id, never on an alias: content never sees this key, and
a counter per alias would let whoever could watch it tie one person's aliases together (each
of their aliases would drain together). Checked before any upstream call, so a refused write
asks no alias of anonymity and reaches no content.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.auth import Viewer
from gateway.limits.admission import retry_after_seconds
from gateway.limits.buckets import RateLimiter
from plumbing.errors import RateLimited

MESSAGE = (
    "you are writing faster than {limit} posts, comments, reactions and votes a minute; "
    "wait before the next one (see Retry-After)"
)


@dataclass(frozen=True, slots=True)
class WriteLimit:
    """The per-person write budget of this replica."""

    limiter: RateLimiter
    per_minute: int

    def spend(self, viewer: Viewer) -> None:
        """Takes one write from the viewer's budget, or raises RateLimited."""
        wait = self.limiter.take(viewer.user_id)
        if wait is not None:
            raise RateLimited(
                MESSAGE.format(limit=self.per_minute), retry_after=retry_after_seconds(wait)
            )
