"""The ContentService gRPC servicer: convert, call the use case, convert.

It reads nothing from the call's metadata: content does not authenticate end users and
must not learn who is asking (invariant P1). Service-to-service authentication (mTLS or
a workload token) is a deployment concern still to come.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import content_pb2_grpc
from services.content.adapters.converters import (
    comment_to_proto,
    community_to_proto,
    draft_from_proto,
    facts_from_proto,
    feed_filter_from_proto,
    poll_to_proto,
    post_to_proto,
    reaction_from_proto,
    reactor_page_to_proto,
    status_from_proto,
    summary_to_proto,
    voter_page_to_proto,
)
from services.content.adapters.report_converters import (
    action_from_proto,
    queue_item_to_proto,
    reason_from_proto,
    report_to_proto,
)
from services.content.adapters.report_converters import (
    status_from_proto as queue_status_from_proto,
)
from services.content.domain.posts import Comment, Post
from services.content.engagement import CardsAsked, EngagementService, FeedCards
from services.content.reports import ReportService
from services.content.revisions import RevisionService
from services.content.service import ContentService, Page

Context = Any  # grpc.aio.ServicerContext; deliberately unused: metadata is never read

log = logging.getLogger("consilium.content")


def comment_page_to_proto(post_id: str, page: Page[Comment]) -> pb.CommentPage:
    return pb.CommentPage(
        post_id=post_id,
        comments=[comment_to_proto(c) for c in page.items],
        next_cursor=page.next_cursor,
        has_next_page=page.has_next_page,
        cursors=page.cursors,
    )


class ContentServicer(content_pb2_grpc.ContentServiceServicer):
    """Adapts gRPC calls to `ContentService`, `EngagementService`, `RevisionService` and
    `ReportService`."""

    def __init__(
        self,
        content: ContentService,
        engagement: EngagementService,
        revisions: RevisionService,
        reports: ReportService,
    ) -> None:
        self._content = content
        self._engagement = engagement
        self._revisions = revisions
        self._reports = reports

    async def CreatePost(
        self, request: pb.CreatePostRequest, context: Context
    ) -> pb.CreatePostResponse:
        post = await self._content.create_post(draft_from_proto(request))
        return pb.CreatePostResponse(post=post_to_proto(post))

    async def GetPost(self, request: pb.GetPostRequest, context: Context) -> pb.GetPostResponse:
        post = await self._content.get_post(request.post_id)
        return pb.GetPostResponse(post=post_to_proto(post))

    async def BatchGetPosts(
        self, request: pb.BatchGetPostsRequest, context: Context
    ) -> pb.BatchGetPostsResponse:
        found, missing = await self._content.batch_get_posts(request.post_ids)
        return pb.BatchGetPostsResponse(
            posts=[post_to_proto(p) for p in found], missing_post_ids=missing
        )

    async def BatchGetComments(
        self, request: pb.BatchGetCommentsRequest, context: Context
    ) -> pb.BatchGetCommentsResponse:
        found, missing = await self._content.batch_get_comments(request.comment_ids)
        return pb.BatchGetCommentsResponse(
            comments=[comment_to_proto(c) for c in found], missing_comment_ids=missing
        )

    async def ListFeed(self, request: pb.ListFeedRequest, context: Context) -> pb.ListFeedResponse:
        page = await self._content.list_feed(
            feed_filter_from_proto(request), request.first, request.after
        )
        return pb.ListFeedResponse(
            posts=[post_to_proto(p) for p in page.items],
            next_cursor=page.next_cursor,
            has_next_page=page.has_next_page,
            cursors=page.cursors,
            cards=await self._carried(request, page.items),
        )

    async def Search(self, request: pb.SearchRequest, context: Context) -> pb.SearchResponse:
        page = await self._content.search(
            request.text,
            request.community_id,
            request.first,
            request.after,
            status_from_proto(request.case_status),
        )
        return pb.SearchResponse(
            posts=[post_to_proto(p) for p in page.items],
            next_cursor=page.next_cursor,
            has_next_page=page.has_next_page,
            cursors=page.cursors,
            cards=await self._carried(request, page.items),
        )

    async def _carried(
        self, request: pb.ListFeedRequest | pb.SearchRequest, posts: Sequence[Post]
    ) -> pb.BatchGetFeedCardsResponse | None:
        """The cards a page call asked to carry for its posts, as BatchGetFeedCards answers.
        If reading them fails, the page goes out without them: the gateway then asks
        BatchGetFeedCards itself, and at worst the cards' fields fail, never the page."""
        if not request.HasField("cards"):
            return None
        parts = request.cards
        try:
            cards = await self._engagement.feed_cards(
                CardsAsked(
                    post_ids=[p.post_id for p in posts],
                    comment_counts=parts.comment_counts,
                    comment_pages=[(a.first, a.after) for a in parts.comment_pages],
                    reactions=parts.reactions,
                    polls=parts.polls,
                    posts={p.post_id: p for p in posts},
                )
            )
        except Exception as exc:
            # The type only: a database error's text holds the statement's parameters.
            log.warning("a page's feed cards failed (%s); sent without them", type(exc).__name__)
            return None
        return _cards_to_proto(cards)

    async def AddComment(
        self, request: pb.AddCommentRequest, context: Context
    ) -> pb.AddCommentResponse:
        comment = await self._content.add_comment(
            request_id=request.request_id,
            post_id=request.post_id,
            parent_id=request.parent_id,
            author_alias_id=request.author_alias_id,
            body=request.body,
        )
        return pb.AddCommentResponse(comment=comment_to_proto(comment))

    async def BatchCountComments(
        self, request: pb.BatchCountCommentsRequest, context: Context
    ) -> pb.BatchCountCommentsResponse:
        counts = await self._content.count_comments(request.post_ids)
        return pb.BatchCountCommentsResponse(
            counts=[pb.CommentCount(post_id=p, count=n) for p, n in counts.items()]
        )

    async def BatchListComments(
        self, request: pb.BatchListCommentsRequest, context: Context
    ) -> pb.BatchListCommentsResponse:
        pages = await self._content.list_comments(
            [(q.post_id, q.first, q.after) for q in request.queries]
        )
        return pb.BatchListCommentsResponse(
            pages=[comment_page_to_proto(post_id, page) for post_id, page in pages]
        )

    async def React(self, request: pb.ReactRequest, context: Context) -> pb.ReactResponse:
        summary = await self._engagement.react(
            request.post_id, request.reactor_alias_id, reaction_from_proto(request.kind)
        )
        return pb.ReactResponse(summary=summary_to_proto(summary))

    async def RetractReaction(
        self, request: pb.RetractReactionRequest, context: Context
    ) -> pb.RetractReactionResponse:
        summary = await self._engagement.retract(request.post_id, request.reactor_alias_id)
        return pb.RetractReactionResponse(summary=summary_to_proto(summary))

    async def BatchGetReactionSummaries(
        self, request: pb.BatchGetReactionSummariesRequest, context: Context
    ) -> pb.BatchGetReactionSummariesResponse:
        summaries = await self._engagement.reaction_summaries(request.post_ids)
        return pb.BatchGetReactionSummariesResponse(
            summaries=[summary_to_proto(s) for s in summaries]
        )

    async def BatchListReactors(
        self, request: pb.BatchListReactorsRequest, context: Context
    ) -> pb.BatchListReactorsResponse:
        pages = await self._engagement.list_reactors(
            [(q.post_id, q.after) for q in request.queries]
        )
        return pb.BatchListReactorsResponse(pages=[reactor_page_to_proto(p) for p in pages])

    async def VotePoll(self, request: pb.VotePollRequest, context: Context) -> pb.VotePollResponse:
        poll = await self._engagement.vote(
            request.post_id, request.voter_alias_id, request.option_index
        )
        return pb.VotePollResponse(poll=poll_to_proto(poll))

    async def BatchGetPolls(
        self, request: pb.BatchGetPollsRequest, context: Context
    ) -> pb.BatchGetPollsResponse:
        polls, missing = await self._engagement.polls(request.post_ids)
        return pb.BatchGetPollsResponse(
            polls=[poll_to_proto(p) for p in polls], missing_post_ids=missing
        )

    async def BatchListPollVoters(
        self, request: pb.BatchListPollVotersRequest, context: Context
    ) -> pb.BatchListPollVotersResponse:
        pages = await self._engagement.list_voters([(q.post_id, q.after) for q in request.queries])
        return pb.BatchListPollVotersResponse(pages=[voter_page_to_proto(p) for p in pages])

    async def BatchGetFeedCards(
        self, request: pb.BatchGetFeedCardsRequest, context: Context
    ) -> pb.BatchGetFeedCardsResponse:
        cards = await self._engagement.feed_cards(
            CardsAsked(
                post_ids=request.post_ids,
                comment_counts=request.comment_counts,
                comment_pages=[(a.first, a.after) for a in request.comment_pages],
                reactions=request.reactions,
                polls=request.polls,
            )
        )
        return _cards_to_proto(cards)

    async def ListCommunities(
        self, request: pb.ListCommunitiesRequest, context: Context
    ) -> pb.ListCommunitiesResponse:
        found = await self._content.list_communities()
        return pb.ListCommunitiesResponse(communities=[community_to_proto(c) for c in found])

    async def BatchGetCommunities(
        self, request: pb.BatchGetCommunitiesRequest, context: Context
    ) -> pb.BatchGetCommunitiesResponse:
        found, missing = await self._content.batch_get_communities(request.community_ids)
        return pb.BatchGetCommunitiesResponse(
            communities=[community_to_proto(c) for c in found], missing_community_ids=missing
        )

    async def SetAliasHidden(
        self, request: pb.SetAliasHiddenRequest, context: Context
    ) -> pb.SetAliasHiddenResponse:
        posts, comments = await self._content.set_alias_hidden(request.alias_ids, request.hidden)
        return pb.SetAliasHiddenResponse(changed_post_count=posts, changed_comment_count=comments)

    async def MarkCaseSolved(
        self, request: pb.MarkCaseSolvedRequest, context: Context
    ) -> pb.MarkCaseSolvedResponse:
        post = await self._revisions.mark_case_solved(
            request.post_id, request.author_alias_id, request.resolution
        )
        return pb.MarkCaseSolvedResponse(post=post_to_proto(post))

    async def EditPost(self, request: pb.EditPostRequest, context: Context) -> pb.EditPostResponse:
        facts = facts_from_proto(request.case) if request.HasField("case") else None
        post = await self._revisions.edit_post(
            request.post_id, request.author_alias_id, request.title, request.body, facts
        )
        return pb.EditPostResponse(post=post_to_proto(post))

    async def EditComment(
        self, request: pb.EditCommentRequest, context: Context
    ) -> pb.EditCommentResponse:
        comment = await self._revisions.edit_comment(
            request.comment_id, request.author_alias_id, request.body
        )
        return pb.EditCommentResponse(comment=comment_to_proto(comment))

    async def DeletePost(
        self, request: pb.DeletePostRequest, context: Context
    ) -> pb.DeletePostResponse:
        await self._revisions.delete_post(request.post_id, request.author_alias_id)
        return pb.DeletePostResponse()

    async def DeleteComment(
        self, request: pb.DeleteCommentRequest, context: Context
    ) -> pb.DeleteCommentResponse:
        comment = await self._revisions.delete_comment(request.comment_id, request.author_alias_id)
        return pb.DeleteCommentResponse(comment=comment_to_proto(comment))

    async def ReportContent(
        self, request: pb.ReportContentRequest, context: Context
    ) -> pb.ReportContentResponse:
        report = await self._reports.report(
            request.post_id,
            request.comment_id,
            request.reporter_alias_id,
            reason_from_proto(request.reason),
            request.note,
        )
        return report_to_proto(report)

    async def ListModerationQueue(
        self, request: pb.ListModerationQueueRequest, context: Context
    ) -> pb.ListModerationQueueResponse:
        page = await self._reports.queue(
            queue_status_from_proto(request.status), request.first, request.after
        )
        return pb.ListModerationQueueResponse(
            items=[queue_item_to_proto(i) for i in page.items],
            next_cursor=page.next_cursor,
            has_next_page=page.has_next_page,
            cursors=page.cursors,
        )

    async def ResolveReports(
        self, request: pb.ResolveReportsRequest, context: Context
    ) -> pb.ResolveReportsResponse:
        item, action_id = await self._reports.resolve(
            request.item_id, action_from_proto(request.action), request.reason, request.staff_role
        )
        return pb.ResolveReportsResponse(item=queue_item_to_proto(item), action_id=action_id)


def _cards_to_proto(cards: FeedCards) -> pb.BatchGetFeedCardsResponse:
    return pb.BatchGetFeedCardsResponse(
        counts=[pb.CommentCount(post_id=p, count=n) for p, n in cards.counts.items()],
        comment_pages=[comment_page_to_proto(p, page) for p, page in cards.pages],
        summaries=[summary_to_proto(s) for s in cards.summaries],
        polls=[poll_to_proto(p) for p in cards.polls],
        missing_poll_ids=cards.missing_polls,
    )
