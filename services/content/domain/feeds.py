"""Which posts a feed or a search shows: communities and case status, never a person."""

from __future__ import annotations

from dataclasses import dataclass

from plumbing.errors import FieldViolation, InvalidArgument
from services.content.domain.posts import CaseStatus

#: Most communities one feed may name (a follow list); the gateway stays well below it.
MAX_FEED_COMMUNITIES = 500


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """`community_ids` None: every community; empty: none (an empty feed). `case_status`
    set: CASE posts of that status only."""

    community_ids: tuple[str, ...] | None = None
    case_status: CaseStatus | None = None

    @property
    def empty(self) -> bool:
        return self.community_ids is not None and not self.community_ids


def feed_filter(
    community_id: str,
    community_ids: tuple[str, ...],
    only_communities: bool,
    case_status: CaseStatus | None,
) -> FeedFilter:
    """One filter from a request's fields; INVALID_ARGUMENT names a contradiction."""
    if only_communities and community_id:
        raise InvalidArgument(
            [FieldViolation("community_id", "name one community or a list, not both")]
        )
    if len(community_ids) > MAX_FEED_COMMUNITIES:
        raise InvalidArgument(
            [FieldViolation("community_ids", f"at most {MAX_FEED_COMMUNITIES} per call")]
        )
    if community_ids and not only_communities:
        raise InvalidArgument(
            [FieldViolation("only_communities", "must be set when community_ids are given")]
        )
    if only_communities:
        return FeedFilter(tuple(dict.fromkeys(community_ids)), case_status)
    return FeedFilter((community_id,) if community_id else None, case_status)
