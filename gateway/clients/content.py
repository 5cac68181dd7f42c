"""Client of the content service. It takes no metadata at all: content must never learn who asks.

The one thing every call carries is the gateway's own service credential: content admits the
gateway alone, and the credential names the gateway, never a user.

Only alias ids, post ids and text cross this line; the end user's token, user id and any
baggage stay in the gateway (OpenTelemetry propagates trace context only). Reads carry no
alias at all; each write carries exactly one (and a request makes at most one write).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import content_pb2_grpc
from consilium.content.v1 import types_pb2 as types
from gateway.clients.base import UpstreamClient, invoke

#: BatchGetFeedCards' limits: posts per call, and comment pages per call.
MAX_CARD_POSTS = 100
MAX_CARD_PAGES = 100


@dataclass(frozen=True, slots=True)
class CardsAsked:
    """Which parts of feed cards a page shows; (first, after) per comment page of each post."""

    counts: bool = False
    pages: tuple[tuple[int, str], ...] = ()
    reactions: bool = False
    polls: bool = False

    def __bool__(self) -> bool:
        return self.counts or bool(self.pages) or self.reactions or self.polls

    def fits(self, posts: int) -> bool:
        """Whether one BatchGetFeedCards (or a page call carrying it) takes `posts` posts."""
        return posts <= MAX_CARD_POSTS and posts * len(self.pages) <= MAX_CARD_PAGES

    def to_proto(self) -> pb.FeedCardParts:
        return pb.FeedCardParts(
            comment_counts=self.counts,
            comment_pages=[pb.CommentPageArgs(first=f, after=a) for f, a in self.pages],
            reactions=self.reactions,
            polls=self.polls,
        )


@dataclass(frozen=True, slots=True)
class FeedCards:
    """BatchGetFeedCards' answer, keyed as the single reads' answers are."""

    counts: dict[str, int]
    pages: dict[tuple[str, int, str], pb.CommentPage]
    summaries: dict[str, types.ReactionSummary]
    polls: dict[str, types.Poll]


_SERVICE = "consilium.content.v1.ContentService"
_IDEMPOTENT = (
    "GetPost",
    "BatchGetPosts",
    "BatchGetComments",
    "ListFeed",
    "Search",
    "BatchCountComments",
    "BatchListComments",
    "BatchGetReactionSummaries",
    "BatchGetPolls",
    "BatchListReactors",
    "BatchListPollVoters",
    "BatchGetFeedCards",
    "ListCommunities",
    "BatchGetCommunities",
    "ListModerationQueue",
    # One report per alias and item: a retried report answers the first.
    "ReportContent",
    # Writes carry a request id, so a retried create returns the first result.
    "CreatePost",
    "AddComment",
)


class ContentClient(UpstreamClient):
    service = _SERVICE
    idempotent = _IDEMPOTENT
    stub_class = content_pb2_grpc.ContentServiceStub
    _stub: content_pb2_grpc.ContentServiceAsyncStub

    async def create_post(self, request: pb.CreatePostRequest) -> types.Post:
        return (await invoke(self._stub.CreatePost, request)).post

    async def add_comment(self, request: pb.AddCommentRequest) -> types.Comment:
        return (await invoke(self._stub.AddComment, request)).comment

    async def posts(self, post_ids: list[str]) -> dict[str, types.Post]:
        reply = await invoke(self._stub.BatchGetPosts, pb.BatchGetPostsRequest(post_ids=post_ids))
        return {p.post_id: p for p in reply.posts}

    async def feed(
        self,
        community_id: str,
        first: int,
        after: str,
        *,
        case_status: int = 0,
        only_communities: list[str] | None = None,
        cards: CardsAsked | None = None,
    ) -> tuple[pb.ListFeedResponse, FeedCards | None]:
        """`only_communities`: a following feed, by community ids alone (never who follows);
        `cards`: the page's feed cards too, in the same call (post ids only)."""
        request = pb.ListFeedRequest(
            community_id=community_id,
            first=first,
            after=after,
            case_status=case_status,  # type: ignore[arg-type]
            community_ids=only_communities or [],
            only_communities=only_communities is not None,
            cards=cards.to_proto() if cards else None,
        )
        reply = await invoke(self._stub.ListFeed, request)
        return reply, _carried(reply, cards)

    async def search(
        self,
        text: str,
        first: int,
        after: str,
        *,
        case_status: int = 0,
        cards: CardsAsked | None = None,
    ) -> tuple[pb.SearchResponse, FeedCards | None]:
        """`cards` as in `feed`."""
        request = pb.SearchRequest(
            text=text,
            first=first,
            after=after,
            case_status=case_status,  # type: ignore[arg-type]
            cards=cards.to_proto() if cards else None,
        )
        reply = await invoke(self._stub.Search, request)
        return reply, _carried(reply, cards)

    async def comment_counts(self, post_ids: list[str]) -> dict[str, int]:
        reply = await invoke(
            self._stub.BatchCountComments, pb.BatchCountCommentsRequest(post_ids=post_ids)
        )
        return {c.post_id: int(c.count) for c in reply.counts}

    async def comment_pages(
        self, queries: list[tuple[str, int, str]]
    ) -> dict[tuple[str, int, str], pb.CommentPage]:
        request = pb.BatchListCommentsRequest(
            queries=[pb.CommentPageQuery(post_id=p, first=f, after=a) for p, f, a in queries]
        )
        reply = await invoke(self._stub.BatchListComments, request)
        # One page per query, in the queries' order: a post asked for twice (another `first`
        # or `after`) has two pages, so they pair by position, never by post id. A reply of
        # another length breaks the contract: zip raises, and the error is masked and logged.
        return dict(zip(queries, reply.pages, strict=True))

    async def comments(self, comment_ids: list[str]) -> dict[str, types.Comment]:
        request = pb.BatchGetCommentsRequest(comment_ids=comment_ids)
        reply = await invoke(self._stub.BatchGetComments, request)
        return {c.comment_id: c for c in reply.comments}

    async def reaction_summaries(self, post_ids: list[str]) -> dict[str, types.ReactionSummary]:
        """Counts and the first page of reactors per post: post ids only, never an alias."""
        request = pb.BatchGetReactionSummariesRequest(post_ids=post_ids)
        reply = await invoke(self._stub.BatchGetReactionSummaries, request)
        return {s.post_id: s for s in reply.summaries}

    async def reactor_pages(self, queries: list[tuple[str, str]]) -> dict[str, pb.ReactorPage]:
        request = pb.BatchListReactorsRequest(
            queries=[pb.ParticipantPageQuery(post_id=p, after=a) for p, a in queries]
        )
        reply = await invoke(self._stub.BatchListReactors, request)
        return {page.post_id: page for page in reply.pages}

    async def react(self, post_id: str, alias_id: str, kind: int) -> types.ReactionSummary:
        request = pb.ReactRequest(post_id=post_id, reactor_alias_id=alias_id, kind=kind)  # type: ignore[arg-type]
        return (await invoke(self._stub.React, request)).summary

    async def retract(self, post_id: str, alias_id: str) -> types.ReactionSummary:
        request = pb.RetractReactionRequest(post_id=post_id, reactor_alias_id=alias_id)
        return (await invoke(self._stub.RetractReaction, request)).summary

    # The author's writes: each carries the one alias the record was written under.

    async def mark_case_solved(self, post_id: str, alias_id: str, resolution: str) -> types.Post:
        request = pb.MarkCaseSolvedRequest(
            post_id=post_id, author_alias_id=alias_id, resolution=resolution
        )
        return (await invoke(self._stub.MarkCaseSolved, request)).post

    async def edit_post(self, request: pb.EditPostRequest) -> types.Post:
        return (await invoke(self._stub.EditPost, request)).post

    async def edit_comment(self, comment_id: str, alias_id: str, body: str) -> types.Comment:
        request = pb.EditCommentRequest(comment_id=comment_id, author_alias_id=alias_id, body=body)
        return (await invoke(self._stub.EditComment, request)).comment

    async def delete_post(self, post_id: str, alias_id: str) -> None:
        await invoke(
            self._stub.DeletePost, pb.DeletePostRequest(post_id=post_id, author_alias_id=alias_id)
        )

    async def delete_comment(self, comment_id: str, alias_id: str) -> types.Comment:
        request = pb.DeleteCommentRequest(comment_id=comment_id, author_alias_id=alias_id)
        return (await invoke(self._stub.DeleteComment, request)).comment

    async def polls(self, post_ids: list[str]) -> dict[str, types.Poll]:
        """Polls with every count and the first page of voters: post ids only."""
        reply = await invoke(self._stub.BatchGetPolls, pb.BatchGetPollsRequest(post_ids=post_ids))
        return {p.post_id: p for p in reply.polls}

    async def voter_pages(self, queries: list[tuple[str, str]]) -> dict[str, pb.VoterPage]:
        request = pb.BatchListPollVotersRequest(
            queries=[pb.ParticipantPageQuery(post_id=p, after=a) for p, a in queries]
        )
        reply = await invoke(self._stub.BatchListPollVoters, request)
        return {page.post_id: page for page in reply.pages}

    async def vote(self, post_id: str, alias_id: str, option: int) -> types.Poll:
        request = pb.VotePollRequest(post_id=post_id, voter_alias_id=alias_id, option_index=option)
        return (await invoke(self._stub.VotePoll, request)).poll

    async def feed_cards(
        self,
        post_ids: list[str],
        *,
        counts: bool = False,
        pages: list[tuple[int, str]] | None = None,
        reactions: bool = False,
        polls: bool = False,
    ) -> FeedCards:
        """The parts asked for of a page of feed cards, in one call: post ids only."""
        args = pages or []
        request = pb.BatchGetFeedCardsRequest(
            post_ids=post_ids,
            comment_counts=counts,
            comment_pages=[pb.CommentPageArgs(first=f, after=a) for f, a in args],
            reactions=reactions,
            polls=polls,
        )
        reply = await invoke(self._stub.BatchGetFeedCards, request)
        return _cards_of(reply, post_ids, args)

    async def communities(self) -> list[types.Community]:
        reply = await invoke(self._stub.ListCommunities, pb.ListCommunitiesRequest())
        return list(reply.communities)

    async def communities_by_id(self, community_ids: list[str]) -> dict[str, types.Community]:
        request = pb.BatchGetCommunitiesRequest(community_ids=community_ids)
        reply = await invoke(self._stub.BatchGetCommunities, request)
        return {c.community_id: c for c in reply.communities}

    async def report(self, request: pb.ReportContentRequest) -> pb.ReportContentResponse:
        """One report, under the reporter's thread alias (the request's only alias)."""
        return await invoke(self._stub.ReportContent, request)

    async def moderation_queue(
        self, status: pb.QueueStatus.ValueType, first: int, after: str
    ) -> pb.ListModerationQueueResponse:
        request = pb.ListModerationQueueRequest(status=status, first=first, after=after)
        return await invoke(self._stub.ListModerationQueue, request)

    async def resolve_reports(self, request: pb.ResolveReportsRequest) -> pb.ResolveReportsResponse:
        return await invoke(self._stub.ResolveReports, request)


def _cards_of(
    reply: pb.BatchGetFeedCardsResponse, post_ids: Sequence[str], pages: Sequence[tuple[int, str]]
) -> FeedCards:
    unique = list(dict.fromkeys(post_ids))
    queries = [(p, f, a) for f, a in pages for p in unique]
    return FeedCards(
        counts={c.post_id: int(c.count) for c in reply.counts},
        # As comment_pages: one page per query, paired by position (zip raises otherwise).
        pages=dict(zip(queries, reply.comment_pages, strict=True)),
        summaries={s.post_id: s for s in reply.summaries},
        polls={p.post_id: p for p in reply.polls},
    )


def _carried(
    reply: pb.ListFeedResponse | pb.SearchResponse, cards: CardsAsked | None
) -> FeedCards | None:
    """The cards a page call carried, or None when it was not asked for them (or a content
    that does not know `cards` yet left them out: the gateway then asks for them itself)."""
    if not cards or not reply.HasField("cards"):
        return None
    return _cards_of(reply.cards, [p.post_id for p in reply.posts], cards.pages)
