"""What the content use cases need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from services.content.domain.engagement import ReactionKind
from services.content.domain.feeds import FeedFilter
from services.content.domain.paging import Cursor
from services.content.domain.posts import Comment, Community, Post
from services.content.domain.reports import (
    ModerationAction,
    QueueItem,
    QueueStatus,
    Report,
    ReportReason,
)


class ContentReader(Protocol):
    """What read-only use cases need: posts, comments, communities and engagement counts.

    Posts and comments come back with `hidden` set when their author alias is hidden.
    Lists take a cursor and a limit and return at most `limit` rows after the cursor.
    """

    async def list_communities(self) -> list[Community]: ...

    async def get_communities(self, community_ids: Sequence[str]) -> dict[str, Community]: ...

    async def get_posts(self, post_ids: Sequence[str]) -> dict[str, Post]: ...

    async def get_post(self, post_id: str, *, for_update: bool = False) -> Post | None: ...

    async def list_posts(self, where: FeedFilter, after: Cursor | None, limit: int) -> list[Post]:
        """Visible (neither hidden nor deleted) posts as `where` filters them, newest first."""

    async def search_posts(
        self, text: str, where: FeedFilter, after: Cursor | None, limit: int
    ) -> list[tuple[Post, float]]:
        """Visible posts matching `text` and `where`, best first, with relevance scores."""

    async def get_comment(self, comment_id: str) -> Comment | None: ...

    async def get_comments(self, comment_ids: Sequence[str]) -> dict[str, Comment]: ...

    async def count_comments(self, post_ids: Sequence[str]) -> dict[str, int]:
        """Visible comments per post, for the posts that exist."""

    async def list_comments(self, post_id: str, after: Cursor | None, limit: int) -> list[Comment]:
        """Comments of one post, oldest first, hidden ones included (threads keep shape)."""

    async def first_comments(self, post_ids: Sequence[str], limit: int) -> dict[str, list[Comment]]:
        """The first `limit` comments of each post (as `list_comments` without a cursor), in one
        query; posts without comments are absent."""

    async def reaction_counts(self, post_ids: Sequence[str]) -> dict[str, dict[ReactionKind, int]]:
        """Counts per kind for posts that have any."""

    async def post_reaction_counts(
        self, post_ids: Sequence[str]
    ) -> dict[str, dict[ReactionKind, int]]:
        """Counts per kind for every existing post (an empty map when it has none): existence
        and counts in one query."""

    async def reactions_by(
        self, post_ids: Sequence[str], alias_ids: Sequence[str]
    ) -> dict[str, ReactionKind]:
        """The reaction any of `alias_ids` left on each post."""

    async def reactors(
        self, post_ids: Sequence[str], after: str, limit: int
    ) -> dict[str, list[tuple[str, ReactionKind]]]:
        """Per post, up to `limit` (alias id, reaction) with alias ids above `after`, in order."""

    async def voters(self, post_ids: Sequence[str], after: str, limit: int) -> dict[str, list[str]]:
        """Per poll, up to `limit` voter alias ids above `after`, in order."""

    async def vote_tallies(self, post_ids: Sequence[str]) -> dict[str, dict[int, int]]: ...


class ContentRepository(ContentReader, Protocol):
    """The reads and every write, inside one transaction."""

    async def add_post(self, post: Post) -> Post:
        """Stores `post`; if its author already used its request id, the earlier post instead."""

    async def find_post_by_request(self, alias_id: str, request_id: str) -> Post | None: ...

    async def save_case(self, post: Post) -> None:
        """Persists the case status, resolution and solved time of `post`."""

    async def save_post_text(self, post: Post) -> None:
        """Persists the title, body, case facts and edit time of `post`."""

    async def save_comment_body(self, comment: Comment) -> None:
        """Persists the body and edit time of `comment`."""

    async def delete_post(self, post: Post, now: datetime) -> None:
        """Stores `post` (a tombstone from `deleted_post`) as deleted at `now`."""

    async def delete_comment(self, comment: Comment, now: datetime) -> None:
        """Blanks the comment's body and marks it deleted at `now`."""

    async def add_comment(self, comment: Comment) -> Comment:
        """Stores `comment`, or returns the earlier one with the same author and request id."""

    async def find_comment_by_request(self, alias_id: str, request_id: str) -> Comment | None: ...

    async def set_reaction(
        self, post_id: str, alias_id: str, kind: ReactionKind, now: datetime
    ) -> None: ...

    async def remove_reaction(self, post_id: str, alias_id: str) -> None: ...

    async def add_vote(self, post_id: str, voter_alias_id: str, option: int, now: datetime) -> bool:
        """Records a vote; False when this voter has voted on this poll already."""

    async def set_aliases_hidden(
        self, alias_ids: Sequence[str], hidden: bool, now: datetime
    ) -> tuple[int, int]:
        """Hides or shows the aliases; how many posts and comments changed visibility."""

    async def mark_orphaned(self, alias_id: str, now: datetime) -> bool:
        """Flags the alias as belonging to nobody any more; False when it already was."""

    async def orphaned(self, alias_ids: Sequence[str]) -> set[str]:
        """Those of `alias_ids` that are orphaned."""

    async def announce_post(self, post: Post) -> None:
        """Queues PostCreated for `post`: it is published only if this transaction commits."""

    async def announce_comment(
        self, comment: Comment, *, post_author: str, parent_author: str
    ) -> None:
        """Queues CommentCreated for `comment`, keyed by its post like the post's own event,
        naming the aliases it answers (the parent's is empty for a top-level comment)."""

    async def announce_case_solved(self, post: Post) -> None:
        """Queues CaseSolved for `post`, keyed by the post."""

    async def find_report(self, item_id: str, alias_id: str) -> Report | None:
        """This alias's report of the item, if it made one."""

    async def add_report(
        self,
        post_id: str,
        comment_id: str,
        alias_id: str,
        reason: ReportReason,
        note: str,
        now: datetime,
    ) -> Report:
        """Records the report and (re)opens the item in the queue; the earlier one if this
        alias reported the item already."""

    async def moderation_queue(
        self, status: QueueStatus, after: Cursor | None, limit: int
    ) -> list[QueueItem]:
        """Reported items in `status`, most recently reported first."""

    async def queue_item(self, item_id: str) -> QueueItem | None: ...

    async def resolve_item(
        self, item_id: str, action: ModerationAction, reason: str, staff_role: str, now: datetime
    ) -> str:
        """Closes the item's reports (hiding it for HIDE_CONTENT) and logs the action; the
        log entry's id."""


class ContentStore(Protocol):
    """Opens units of work: a repository whose changes commit together or not at all."""

    def transaction(self) -> AbstractAsyncContextManager[ContentRepository]: ...

    def reading(self) -> AbstractAsyncContextManager[ContentReader]:
        """Reads only, outside any unit of work: cheaper, and nothing to commit."""
