"""Following communities: per-person data the following feed needs, kept here by person.

Content must not hold it: content never gets a person id, and a follow list keyed by alias
would hand content the set of a person's aliases. Anonymity keeps no per-person index at
rest on purpose. Identity holds the person's account already, and erasure deletes the
follows with the rest of the personal data. Callers act for themselves only (the token).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime

from plumbing.auth.claims import AccessClaims
from plumbing.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.identity.checks import require_active
from services.identity.ports import IdentityStore, PhysicianRepository

log = logging.getLogger("consilium.identity")

#: Follows per person; a following feed names them all in one content query.
MAX_FOLLOWS = 200
#: Content's community ids: lower-case words joined by hyphens (e.g. "lounge-stories").
_COMMUNITY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def _check_community_id(community_id: str) -> None:
    if _COMMUNITY_ID.fullmatch(community_id) is None:
        raise InvalidArgument(
            [FieldViolation("community_id", "is not a community id; communities lists them")]
        )


async def _require_account(repo: PhysicianRepository, user_id: str) -> None:
    found = await repo.get(user_id)
    if found is None or found.erased:
        raise NotFound("no such account")


class FollowService:
    """Follow, unfollow and list, for the caller alone."""

    def __init__(
        self, store: IdentityStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._clock = clock

    async def follow(self, caller: AccessClaims | None, community_id: str) -> None:
        actor = require_active(caller)
        _check_community_id(community_id)
        async with self._store.transaction() as repo:
            await _require_account(repo, actor.user_id)
            if community_id in await repo.followed(actor.user_id):
                return
            if await repo.count_follows(actor.user_id) >= MAX_FOLLOWS:
                raise FailedPrecondition(
                    f"you follow {MAX_FOLLOWS} communities already; unfollow one first"
                )
            await repo.follow(actor.user_id, community_id, self._clock())
        log.info("community followed")

    async def unfollow(self, caller: AccessClaims | None, community_id: str) -> None:
        actor = require_active(caller)
        _check_community_id(community_id)
        async with self._store.transaction() as repo:
            await repo.unfollow(actor.user_id, community_id)
        log.info("community unfollowed")

    async def followed(self, caller: AccessClaims | None) -> list[str]:
        actor = require_active(caller)
        async with self._store.transaction() as repo:
            return await repo.followed(actor.user_id)
