"""Content use cases: posts, feed, search, comments, communities and moderation.

Callers are not authenticated here: content must not learn who is asking, so requests
carry alias ids only and the gateway authorises people before calling (see content.proto).
Nothing in this module logs request values: texts, alias ids and queries stay out of logs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from plumbing.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from services.content.domain import ids
from services.content.domain.feeds import FeedFilter
from services.content.domain.paging import Cursor, decode_cursor, page_size
from services.content.domain.posts import (
    Case,
    CaseStatus,
    Comment,
    Community,
    Post,
    PostDraft,
    redacted,
    redacted_comment,
    validate_comment_body,
    validate_draft,
)
from services.content.ports import ContentReader, ContentRepository, ContentStore

log = logging.getLogger("consilium.content")

#: Most ids one batch call may carry; the gateway's loaders stay well below it.
MAX_BATCH = 500
MAX_COMMENT_QUERIES = 100
MAX_SEARCH_TEXT = 200

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str
    has_next_page: bool
    #: One per item: that item's keyset position, so a client can page on from any item.
    cursors: list[str]


def require(*violations: FieldViolation | None) -> None:
    """Raises INVALID_ARGUMENT naming every violation given, if any."""
    found = [v for v in violations if v is not None]
    if found:
        raise InvalidArgument(found)


def check_batch(values: Sequence[str], field: str, limit: int = MAX_BATCH) -> list[str]:
    """The distinct values in order; INVALID_ARGUMENT if there are too many."""
    if len(values) > limit:
        raise InvalidArgument([FieldViolation(field, f"at most {limit} per call; split it")])
    return list(dict.fromkeys(values))


def check_aliases(values: Sequence[str], field: str) -> list[str]:
    wanted = check_batch(values, field)
    require(*(ids.opaque_id_violation(v, f"{field}[{i}]") for i, v in enumerate(wanted)))
    return wanted


def post_id_violation(value: str, field: str = "post_id") -> FieldViolation | None:
    return ids.id_violation(value, field, ids.POST_PREFIX, "a post id")


def _page(rows: list[T], limit: int, cursor_of: Callable[[T], str]) -> Page[T]:
    has_next = len(rows) > limit
    rows = rows[:limit]
    cursors = [cursor_of(row) for row in rows]
    return Page(rows, cursors[-1] if has_next and rows else "", has_next, cursors)


def _post_cursor(post: Post) -> str:
    return Cursor(post.created_at, post.post_id).encode("feed")


def _comment_cursor(comment: Comment) -> str:
    return Cursor(comment.created_at, comment.comment_id).encode("comments")


class ContentService:
    """The content use cases over a `ContentStore`."""

    def __init__(
        self, store: ContentStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._store = store
        self._clock = clock

    async def create_post(self, draft: PostDraft) -> Post:
        """A new post; INVALID_ARGUMENT names bad fields, including patient identifiers.

        PostCreated is queued in the same transaction as the insert; a retry with the same
        request id returns the earlier post and queues nothing.
        """
        require(
            ids.opaque_id_violation(draft.author_alias_id, "author_alias_id"),
            ids.opaque_id_violation(draft.thread_scope_id, "thread_scope_id", "a thread scope id"),
            None if draft.community_id else FieldViolation("community_id", "is required"),
        )
        now = self._clock()
        async with self._store.transaction() as repo:
            if draft.request_id:
                earlier = await repo.find_post_by_request(draft.author_alias_id, draft.request_id)
                if earlier is not None:
                    return redacted(earlier)
            validate_draft(draft, now)
            if not await repo.get_communities([draft.community_id]):
                raise InvalidArgument(
                    [FieldViolation("community_id", "no such community; ListCommunities has them")]
                )
            await _check_not_orphaned(repo, draft.author_alias_id)
            new = _new_post(draft, now)
            post = await repo.add_post(new)
            if post.post_id == new.post_id:  # not a concurrent retry's earlier post
                await repo.announce_post(post)
        log.info("post created")
        return redacted(post)

    async def get_post(self, post_id: str) -> Post:
        require(post_id_violation(post_id))
        async with self._store.reading() as repo:
            post = await repo.get_post(post_id)
        if post is None:
            raise NotFound("no post with that id")
        return redacted(post)

    async def batch_get_posts(self, post_ids: Sequence[str]) -> tuple[list[Post], list[str]]:
        wanted = check_batch(post_ids, "post_ids")
        async with self._store.reading() as repo:
            found = await repo.get_posts(wanted)
        return [redacted(p) for p in found.values()], [i for i in wanted if i not in found]

    async def batch_get_comments(
        self, comment_ids: Sequence[str]
    ) -> tuple[list[Comment], list[str]]:
        wanted = check_batch(comment_ids, "comment_ids")
        async with self._store.reading() as repo:
            found = await repo.get_comments(wanted)
        return [redacted_comment(c) for c in found.values()], [i for i in wanted if i not in found]

    async def list_feed(self, where: FeedFilter, first: int, after: str) -> Page[Post]:
        """Newest visible posts first; a filter naming no community is an empty feed."""
        limit = page_size(first)
        cursor = decode_cursor(after, "feed")
        if where.empty:
            return Page([], "", False, [])
        async with self._store.reading() as repo:
            if where.community_ids is not None and len(where.community_ids) == 1:
                await _check_community(repo, where.community_ids[0])
            rows = await repo.list_posts(where, cursor, limit + 1)
        return _page(rows, limit, _post_cursor)

    async def search(
        self, text: str, community_id: str, first: int, after: str, status: CaseStatus | None = None
    ) -> Page[Post]:
        """Visible posts matching `text`, best first; the query text is never logged."""
        if not text.strip() or len(text) > MAX_SEARCH_TEXT:
            raise InvalidArgument(
                [FieldViolation("text", f"must be 1 to {MAX_SEARCH_TEXT} characters")]
            )
        limit = page_size(first)
        cursor = decode_cursor(after, "search")
        async with self._store.reading() as repo:
            await _check_community(repo, community_id)
            where = FeedFilter((community_id,) if community_id else None, status)
            rows = await repo.search_posts(text, where, cursor, limit + 1)
        page = _page(
            rows, limit, lambda r: Cursor(r[0].created_at, r[0].post_id, r[1]).encode("search")
        )
        return Page(
            [post for post, _ in page.items], page.next_cursor, page.has_next_page, page.cursors
        )

    async def add_comment(
        self, *, request_id: str, post_id: str, parent_id: str, author_alias_id: str, body: str
    ) -> Comment:
        require(
            post_id_violation(post_id),
            ids.opaque_id_violation(author_alias_id, "author_alias_id"),
            ids.id_violation(parent_id, "parent_id", ids.COMMENT_PREFIX, "a comment id")
            if parent_id
            else None,
            FieldViolation("request_id", "at most 64 characters") if len(request_id) > 64 else None,
        )
        async with self._store.transaction() as repo:
            if request_id:
                earlier = await repo.find_comment_by_request(author_alias_id, request_id)
                if earlier is not None:
                    return redacted_comment(earlier)
            validate_comment_body(body)
            await _check_not_orphaned(repo, author_alias_id)
            post = await repo.get_post(post_id)
            if post is None or post.deleted:
                raise NotFound("no post with that id")
            parent_author = ""
            if parent_id:
                parent = await repo.get_comment(parent_id)
                if parent is None or parent.post_id != post_id:
                    raise InvalidArgument(
                        [FieldViolation("parent_id", "no comment with that id on this post")]
                    )
                parent_author = parent.author_alias_id
            comment = Comment(
                comment_id=ids.new_comment_id(),
                post_id=post_id,
                parent_id=parent_id,
                author_alias_id=author_alias_id,
                body=body,
                created_at=self._clock(),
                request_id=request_id,
            )
            stored = await repo.add_comment(comment)
            if stored.comment_id == comment.comment_id:
                await repo.announce_comment(
                    stored, post_author=post.author_alias_id, parent_author=parent_author
                )
        log.info("comment added")
        return redacted_comment(stored)

    async def count_comments(self, post_ids: Sequence[str]) -> dict[str, int]:
        wanted = check_batch(post_ids, "post_ids")
        async with self._store.reading() as repo:
            return await repo.count_comments(wanted)

    async def list_comments(
        self, queries: Sequence[tuple[str, int, str]]
    ) -> list[tuple[str, Page[Comment]]]:
        """One page per (post id, first, after) query, in order; empty for unknown posts."""
        parsed = parse_comment_queries(queries)
        async with self._store.reading() as repo:
            return await read_comment_pages(repo, parsed)

    async def list_communities(self) -> list[Community]:
        async with self._store.reading() as repo:
            return await repo.list_communities()

    async def batch_get_communities(
        self, community_ids: Sequence[str]
    ) -> tuple[list[Community], list[str]]:
        wanted = check_batch(community_ids, "community_ids")
        async with self._store.reading() as repo:
            found = await repo.get_communities(wanted)
        return list(found.values()), [c for c in wanted if c not in found]

    async def set_alias_hidden(self, alias_ids: Sequence[str], hidden: bool) -> tuple[int, int]:
        """Hides (or shows again) everything the aliases wrote; nothing is deleted."""
        wanted = check_aliases(alias_ids, "alias_ids")
        if not wanted:
            raise InvalidArgument([FieldViolation("alias_ids", "name at least one alias")])
        async with self._store.transaction() as repo:
            changed = await repo.set_aliases_hidden(wanted, hidden, self._clock())
        log.info("alias visibility set", extra={"fields": {"hidden": hidden}})
        return changed


CommentQuery = tuple[str, int, Cursor | None]


def parse_comment_queries(queries: Sequence[tuple[str, int, str]]) -> list[CommentQuery]:
    """Checked (post id, page size, cursor) queries; INVALID_ARGUMENT past the limit."""
    if len(queries) > MAX_COMMENT_QUERIES:
        raise InvalidArgument(
            [FieldViolation("queries", f"at most {MAX_COMMENT_QUERIES} per call; split it")]
        )
    return [
        (
            post_id,
            page_size(first, f"queries[{i}].first"),
            decode_cursor(after, "comments", f"queries[{i}].after"),
        )
        for i, (post_id, first, after) in enumerate(queries)
    ]


async def read_comment_pages(
    repo: ContentReader, parsed: Sequence[CommentQuery]
) -> list[tuple[str, Page[Comment]]]:
    """The pages of `parsed`, in order, on an open read (shared by BatchGetFeedCards)."""
    pages: list[tuple[str, Page[Comment]]] = []
    # First pages (the feed's case: no cursor) come from one query per page size.
    first: dict[int, dict[str, list[Comment]]] = {}
    for size in {limit for _, limit, cursor in parsed if cursor is None}:
        wanted = list(dict.fromkeys(p for p, n, c in parsed if c is None and n == size))
        first[size] = await repo.first_comments(wanted, size + 1)
    for post_id, limit, cursor in parsed:
        if cursor is None:
            rows = first[limit].get(post_id, [])
        else:
            rows = await repo.list_comments(post_id, cursor, limit + 1)
        page = _page(rows, limit, _comment_cursor)
        items = [redacted_comment(c) for c in page.items]
        pages.append((post_id, Page(items, page.next_cursor, page.has_next_page, page.cursors)))
    return pages


async def _check_community(repo: ContentReader, community_id: str) -> None:
    if community_id and not await repo.get_communities([community_id]):
        raise InvalidArgument(
            [FieldViolation("community_id", "no such community; ListCommunities has them")]
        )


async def _check_not_orphaned(repo: ContentRepository, alias_id: str) -> None:
    if await repo.orphaned([alias_id]):
        raise FailedPrecondition(
            "this alias belongs to nobody since its owner's account was erased; it cannot write"
        )


def _new_post(draft: PostDraft, now: datetime) -> Post:
    assert draft.kind is not None
    return Post(
        post_id=ids.new_post_id(),
        kind=draft.kind,
        community_id=draft.community_id,
        thread_scope_id=draft.thread_scope_id,
        author_alias_id=draft.author_alias_id,
        title=draft.title,
        body=draft.body,
        created_at=now,
        case=Case(draft.case) if draft.case is not None else None,
        poll_options=draft.poll_options,
        poll_closes_at=draft.poll_closes_at,
        request_id=draft.request_id,
    )
