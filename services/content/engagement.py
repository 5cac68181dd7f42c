"""Engagement use cases: reactions and poll votes, one per alias, results hidden until voted.

Viewer alias ids link one person's aliases, so they are used for the answer only: never
stored, never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from plumbing.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.content.domain import ids
from services.content.domain.engagement import (
    PollView,
    ReactionKind,
    ReactionSummary,
    is_closed,
    poll_view,
    summarise_reactions,
)
from services.content.domain.posts import Post, PostKind
from services.content.ports import ContentRepository, ContentStore
from services.content.service import check_aliases, check_batch, post_id_violation, require

log = logging.getLogger("consilium.content")


async def _existing_post(repo: ContentRepository, post_id: str) -> Post:
    post = await repo.get_post(post_id)
    if post is None:
        raise NotFound("no post with that id")
    return post


class EngagementService:
    """Reactions and polls over a `ContentStore`."""

    def __init__(
        self, store: ContentStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._clock = clock

    async def react(
        self, post_id: str, alias_id: str, kind: ReactionKind | None
    ) -> ReactionSummary:
        """Sets the alias's one reaction on the post, replacing an earlier one."""
        require(
            post_id_violation(post_id),
            ids.opaque_id_violation(alias_id, "reactor_alias_id"),
            None
            if kind is not None
            else FieldViolation("kind", "is required: LIKE, INSIGHTFUL, AGREE or SUPPORT"),
        )
        assert kind is not None
        async with self._store.transaction() as repo:
            await _existing_post(repo, post_id)
            await repo.set_reaction(post_id, alias_id, kind, self._clock())
            return await self._summary(repo, post_id, [alias_id])

    async def retract(self, post_id: str, alias_id: str) -> ReactionSummary:
        require(post_id_violation(post_id), ids.opaque_id_violation(alias_id, "reactor_alias_id"))
        async with self._store.transaction() as repo:
            await _existing_post(repo, post_id)
            await repo.remove_reaction(post_id, alias_id)
            return await self._summary(repo, post_id, [alias_id])

    async def reaction_summaries(
        self, post_ids: Sequence[str], viewer_alias_ids: Sequence[str]
    ) -> list[ReactionSummary]:
        """One summary per known post, as the viewer (any of their aliases) sees it."""
        wanted = check_batch(post_ids, "post_ids")
        viewers = check_aliases(viewer_alias_ids, "viewer_alias_ids")
        async with self._store.transaction() as repo:
            known = await repo.get_posts(wanted)
            present = [p for p in wanted if p in known]
            counts = await repo.reaction_counts(present)
            mine = await repo.reactions_by(present, viewers)
        return [summarise_reactions(p, counts.get(p, {}), mine.get(p)) for p in present]

    async def _summary(
        self, repo: ContentRepository, post_id: str, viewers: list[str]
    ) -> ReactionSummary:
        counts = await repo.reaction_counts([post_id])
        mine = await repo.reactions_by([post_id], viewers)
        return summarise_reactions(post_id, counts.get(post_id, {}), mine.get(post_id))

    async def vote(self, post_id: str, voter_alias_id: str, option: int) -> PollView:
        """Casts the one, final vote of `voter_alias_id` (the voter's alias for this poll)."""
        require(
            post_id_violation(post_id), ids.opaque_id_violation(voter_alias_id, "voter_alias_id")
        )
        now = self._clock()
        async with self._store.transaction() as repo:
            post = await _existing_post(repo, post_id)
            if post.kind is not PostKind.POLL:
                raise InvalidArgument([FieldViolation("post_id", "is not a POLL post")])
            if not 0 <= option < len(post.poll_options):
                raise InvalidArgument(
                    [FieldViolation("option_index", f"must be 0 to {len(post.poll_options) - 1}")]
                )
            if is_closed(post, now):
                raise FailedPrecondition("the poll has closed; it takes no more votes")
            if not await repo.add_vote(post_id, voter_alias_id, option, now):
                raise FailedPrecondition(
                    "this alias has voted on this poll already; votes are final"
                )
            tallies = await repo.vote_tallies([post_id])
        log.info("poll vote cast")
        return poll_view(post, tallies.get(post_id, {}), option, now)

    async def polls(
        self, post_ids: Sequence[str], viewer_alias_ids: Sequence[str]
    ) -> tuple[list[PollView], list[str]]:
        """Polls as the viewer sees them; unknown, hidden and non-poll ids come back missing."""
        wanted = check_batch(post_ids, "post_ids")
        viewers = check_aliases(viewer_alias_ids, "viewer_alias_ids")
        now = self._clock()
        async with self._store.transaction() as repo:
            found = await repo.get_posts(wanted)
            polls = [
                found[p]
                for p in wanted
                if p in found and found[p].kind is PostKind.POLL and not found[p].hidden
            ]
            present = [p.post_id for p in polls]
            tallies = await repo.vote_tallies(present)
            mine = await repo.votes_by(present, viewers)
        views = [poll_view(p, tallies.get(p.post_id, {}), mine.get(p.post_id), now) for p in polls]
        return views, [p for p in wanted if p not in present]
