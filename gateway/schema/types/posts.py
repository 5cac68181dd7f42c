"""Posts, comments, communities and their connections; authors are personas, never people."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime

import strawberry
from google.protobuf.timestamp_pb2 import Timestamp

from consilium.content.v1 import content_pb2 as cpb
from consilium.content.v1 import types_pb2 as ctypes
from gateway.context import Info
from gateway.schema.prefetch import NOTHING, Fetched, prefetch
from gateway.schema.selection import COMMENTS_FIRST, names, post_shape, under
from gateway.schema.types.author import Author, author_of, load_author, owned
from gateway.schema.types.connections import Edge, edges

# Re-exported for gateway/schema/types/audit.py, which imports it from here.
from gateway.schema.types.connections import PageInfo as PageInfo
from gateway.schema.types.engagement import Poll, ReactionSummary
from gateway.schema.types.enums import (
    AGE_BAND,
    CASE_STATUS,
    POST_KIND,
    SEX,
    AgeBand,
    CaseStatus,
    PostKind,
    Sex,
    from_proto,
)
from gateway.schema.visible import find_post

# Re-exported for gateway/schema/subscription.py, which imports it from here.
from gateway.schema.visible import readable as readable
from gateway.viewer_state import PollResults, Reactions
from plumbing.errors import FieldViolation, InvalidArgument
from plumbing.timestamps import to_datetime


def check_page_size(first: int, settings_max: int, field: str = "first") -> int:
    if not 1 <= first <= settings_max:
        raise InvalidArgument([FieldViolation(field, f"must be between 1 and {settings_max}")])
    return first


@strawberry.type
class Community:
    id: strawberry.ID
    name: str
    description: str
    fetched: strawberry.Private[Fetched] = NOTHING

    @strawberry.field(
        description="Whether the signed-in viewer follows it (false when signed out). Kept by "
        "identity, per person: content never learns who follows what.",
        graphql_type=bool,
    )
    def viewer_follows(self, info: Info) -> bool | Awaitable[bool]:
        if info.context.viewer is None:
            return False
        follows = self.fetched.follows
        if self.id in follows:
            return bool(follows[self.id])
        return self._load_follows(info)

    async def _load_follows(self, info: Info) -> bool:
        return bool(await info.context.loaders.follows.load(str(self.id)))

    @classmethod
    def from_proto(cls, community: ctypes.Community, fetched: Fetched = NOTHING) -> Community:
        return cls(
            id=strawberry.ID(community.community_id),
            name=community.name,
            description=community.description,
            fetched=fetched,
        )

    @classmethod
    def of(cls, community_id: str, found: ctypes.Community | None, fetched: Fetched) -> Community:
        """A post's community; one content no longer knows keeps its id and nothing else."""
        if found is None:
            return cls(id=strawberry.ID(community_id), name="", description="", fetched=fetched)
        return cls.from_proto(found, fetched)


@strawberry.type
class CaseDetails:
    age_band: AgeBand | None
    sex: Sex | None
    presenting_complaint: str
    history: str
    question: str
    specialty_tags: list[str]
    status: CaseStatus | None
    resolution: str | None
    solved_at: datetime | None = strawberry.field(description="Set once the author solved it.")

    @classmethod
    def from_proto(cls, case: ctypes.CaseDetails) -> CaseDetails:
        return cls(
            age_band=from_proto(AgeBand, AGE_BAND, case.age_band),
            sex=from_proto(Sex, SEX, case.sex),
            presenting_complaint=case.presenting_complaint,
            history=case.history,
            question=case.question,
            specialty_tags=list(case.specialty_tags),
            status=from_proto(CaseStatus, CASE_STATUS, case.status),
            resolution=case.resolution or None,
            solved_at=_time(case.solved_at) if case.HasField("solved_at") else None,
        )


def _time(stamp: Timestamp) -> datetime:
    return to_datetime(stamp)


def _edited(message: ctypes.Post | ctypes.Comment) -> datetime | None:
    return _time(message.edited_at) if message.HasField("edited_at") else None


@strawberry.type
class Comment:
    id: strawberry.ID
    body: str = strawberry.field(description="Empty once deleted (or hidden by a moderator).")
    created_at: datetime
    edited_at: datetime | None = strawberry.field(description="When its author last edited it.")
    deleted: bool = strawberry.field(
        description="Its author deleted it: a tombstone that keeps the replies in place, with "
        "no body and no author."
    )
    parent_id: strawberry.ID | None
    author_alias_id: strawberry.Private[str]
    fetched: strawberry.Private[Fetched] = NOTHING

    @strawberry.field(
        description="Null once the comment is deleted (who wrote it is not shown after "
        "deletion), or with an error while anonymity is unreachable.",
        graphql_type=Author | None,
    )
    def author(self, info: Info) -> Author | Awaitable[Author] | None:
        alias = self.author_alias_id
        if not alias:
            return None
        if alias in self.fetched.personas:
            return author_of(alias, self.fetched)
        return load_author(info, alias)

    @strawberry.field(graphql_type=bool)
    def viewer_is_author(self, info: Info) -> bool | Awaitable[bool]:
        if not self.author_alias_id:
            return False
        return owned(info, self.fetched, self.author_alias_id)

    @classmethod
    def from_proto(cls, comment: ctypes.Comment, fetched: Fetched = NOTHING) -> Comment:
        return cls(
            id=strawberry.ID(comment.comment_id),
            body=comment.body,
            created_at=_time(comment.created_at),
            edited_at=_edited(comment),
            deleted=comment.deleted,
            parent_id=strawberry.ID(comment.parent_id) if comment.parent_id else None,
            # Content sends none for a deleted comment; blank it here too, whatever it sends.
            author_alias_id="" if comment.deleted else comment.author_alias_id,
            fetched=fetched,
        )


@strawberry.type(description="A page of comments, oldest first.")
class CommentConnection:
    edges: list[Edge[Comment]]
    nodes: list[Comment]
    page_info: PageInfo

    @classmethod
    def from_proto(
        cls, page: cpb.CommentPage | None, fetched: Fetched = NOTHING
    ) -> CommentConnection:
        if page is None:
            return cls(edges=[], nodes=[], page_info=PageInfo.of([], has_next_page=False))
        nodes = [Comment.from_proto(c, fetched) for c in page.comments]
        return cls(
            edges=edges(nodes, page.cursors),
            nodes=nodes,
            page_info=PageInfo.of(page.cursors, page.has_next_page),
        )


@strawberry.federation.type(keys=["id"])
class Post:
    """A post. Made by a look-ahead fetch (gateway/schema/prefetch.py), its fields read
    plain values from `fetched`; made elsewhere (mutations, subscriptions), they load for
    themselves through the request's DataLoaders."""

    id: strawberry.ID
    kind: PostKind
    title: str
    body: str
    created_at: datetime
    edited_at: datetime | None = strawberry.field(description="When its author last edited it.")
    proto: strawberry.Private[ctypes.Post]
    fetched: strawberry.Private[Fetched] = NOTHING

    @strawberry.field(graphql_type=Community)
    def community(self, info: Info) -> Community | Awaitable[Community]:
        community_id, fetched = self.proto.community_id, self.fetched
        if community_id in fetched.communities:
            return Community.of(community_id, fetched.communities[community_id], fetched)
        return self._load_community(info)

    async def _load_community(self, info: Info) -> Community:
        community_id = self.proto.community_id
        found = await info.context.loaders.communities.load(community_id)
        return Community.of(community_id, found, NOTHING)

    @strawberry.field(
        description="Null (with an error) only while anonymity is unreachable.",
        graphql_type=Author | None,
    )
    def author(self, info: Info) -> Author | Awaitable[Author]:
        alias = self.proto.author_alias_id
        if alias in self.fetched.personas:
            return author_of(alias, self.fetched)
        return load_author(info, alias)

    @strawberry.field(graphql_type=bool)
    def viewer_is_author(self, info: Info) -> bool | Awaitable[bool]:
        return owned(info, self.fetched, self.proto.author_alias_id)

    @strawberry.field(graphql_type=int)
    def comment_count(self, info: Info) -> int | Awaitable[int]:
        counts = self.fetched.comment_counts
        if self.id in counts:
            return counts[self.id] or 0
        return self._load_comment_count(info)

    async def _load_comment_count(self, info: Info) -> int:
        return await info.context.loaders.comment_counts.load(str(self.id)) or 0

    @strawberry.field(graphql_type=CommentConnection)
    def comments(
        self,
        info: Info,
        first: int = COMMENTS_FIRST,
        after: str | None = None,
    ) -> CommentConnection | Awaitable[CommentConnection]:
        check_page_size(first, info.context.settings.max_page_size)
        key, pages = (str(self.id), first, after or ""), self.fetched.comment_pages
        if key in pages:
            return CommentConnection.from_proto(pages[key], self.fetched)
        return self._load_comments(info, key)

    async def _load_comments(self, info: Info, key: tuple[str, int, str]) -> CommentConnection:
        loaders = info.context.loaders
        wanted = names(info.selected_fields)
        personas, owned = "author" in wanted, bool({"viewerIsAuthor", "isViewer"} & wanted)
        if not (personas or owned):
            return CommentConnection.from_proto(await loaders.comment_pages.load(key))
        # Held before the post authors' batch leaves (gateway/author_batches.py), so these
        # comments' authors join it: one persona and one ownership call per request.
        loaders.authors.hold()
        page = None
        try:
            page = await loaders.comment_pages.load(key)
        finally:
            aliases = [c.author_alias_id for c in page.comments] if page is not None else []
            loaders.authors.release(aliases if personas else [], aliases if owned else [])
        return CommentConnection.from_proto(page)

    @strawberry.field(graphql_type=ReactionSummary)
    def reactions(self, info: Info) -> ReactionSummary | Awaitable[ReactionSummary]:
        fetched, scope = self.fetched, self.proto.thread_scope_id
        if self.id in fetched.reactions:
            found = fetched.reactions[self.id]
            # Looked up only when `viewerReaction` is selected: unknown, it is not shown.
            mine = fetched.thread_aliases.get(scope)
            return _reactions(found, mine)
        return self._load_reactions(info)

    async def _load_reactions(self, info: Info) -> ReactionSummary:
        # Both loads start together, so a page costs one call of each (see viewer_state.py).
        loaders = info.context.loaders
        found, mine = await asyncio.gather(
            loaders.reactions.load(str(self.id)),
            loaders.thread_aliases.load(self.proto.thread_scope_id),
        )
        return _reactions(found, mine)

    @strawberry.field(graphql_type=Poll | None)
    def poll(self, info: Info) -> Poll | Awaitable[Poll | None] | None:
        if self.kind is not PostKind.POLL:
            return None
        fetched, scope = self.fetched, self.proto.thread_scope_id
        if self.id in fetched.polls and scope in fetched.thread_aliases:
            return _poll(fetched.polls[self.id], fetched.thread_aliases[scope])
        return self._load_poll(info)

    async def _load_poll(self, info: Info) -> Poll | None:
        loaders = info.context.loaders
        found, mine = await asyncio.gather(
            loaders.polls.load(str(self.id)),
            loaders.thread_aliases.load(self.proto.thread_scope_id),
        )
        return _poll(found, mine)

    @strawberry.field(name="case")
    def case_details(self) -> CaseDetails | None:
        if self.kind is not PostKind.CASE:
            return None
        return CaseDetails.from_proto(self.proto.case)

    @classmethod
    def from_proto(cls, post: ctypes.Post, fetched: Fetched = NOTHING) -> Post:
        return cls(
            id=strawberry.ID(post.post_id),
            kind=from_proto(PostKind, POST_KIND, post.kind) or PostKind.DISCUSSION,
            title=post.title,
            body=post.body,
            created_at=_time(post.created_at),
            edited_at=_edited(post),
            proto=post,
            fetched=fetched,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Post | None:
        # A federation router forwards the client's Authorization: the same rule as Query.
        info.context.auth.require_reader()
        found = await find_post(info, str(id))  # null alike when hidden or deleted
        if found is None:
            return None
        shape = post_shape(under(info.selected_fields, on="Post"))
        return cls.from_proto(found, await prefetch(info.context, [found], shape))


def _reactions(found: Reactions | None, mine: str | None) -> ReactionSummary:
    if found is None:
        return ReactionSummary.from_proto(None, None)
    return ReactionSummary.from_proto(found.summary, found.of(mine))


def _poll(found: PollResults | None, mine: str | None) -> Poll | None:
    if found is None:
        return None
    return Poll.from_proto(found.poll, viewer_has_voted=found.voted(mine))


@strawberry.type(description="A page of posts.")
class PostConnection:
    edges: list[Edge[Post]]
    nodes: list[Post]
    page_info: PageInfo

    @classmethod
    def from_proto(
        cls, page: cpb.ListFeedResponse | cpb.SearchResponse, fetched: Fetched = NOTHING
    ) -> PostConnection:
        nodes = [Post.from_proto(p, fetched) for p in page.posts]
        return cls(
            edges=edges(nodes, page.cursors),
            nodes=nodes,
            page_info=PageInfo.of(page.cursors, page.has_next_page),
        )
