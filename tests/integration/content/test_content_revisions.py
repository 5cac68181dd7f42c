"""Solved cases, edits and deletions at content's RPCs: the author alias only, tombstones,
the feed's filters and the CaseSolved event. On SQLite and PostgreSQL."""

from __future__ import annotations

import grpc
from content_harness import CASE, ContentClient, alias, rpc_error, violations
from events_harness import EventsClient

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import types_pb2 as tpb
from consilium.events.v1 import content_events_pb2 as cpb
from plumbing.events.bus import Record
from plumbing.events.envelope import Event
from plumbing.events.topics import CONTENT_POSTS

CASE_SOLVED = cpb.CaseSolved.DESCRIPTOR.full_name


async def _feed(content: ContentClient, **filters: object) -> list[str]:
    page = await content.stub.ListFeed(pb.ListFeedRequest(first=100, **filters))  # type: ignore[arg-type]
    return [p.post_id for p in page.posts]


async def test_edits_are_the_authors_alone_and_guarded_again(content: ContentClient) -> None:
    author = alias()
    case = await content.case(author_alias_id=author)
    edit = pb.EditPostRequest(
        post_id=case.post_id, author_alias_id=alias(), title="Dapagliflozin at eGFR 28?", body="B"
    )
    denied = await rpc_error(content.stub.EditPost(edit))
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    edit.author_alias_id = author
    edit.case.CopyFrom(CASE)
    edit.case.history = "Seen at 12 Elm Street, Springfield 62704, MRN: 44556677"
    guarded = await rpc_error(content.stub.EditPost(edit))
    assert guarded.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "case.history" in violations(guarded)
    edit.ClearField("case")
    edited = (await content.stub.EditPost(edit)).post
    assert (edited.title, edited.body) == ("Dapagliflozin at eGFR 28?", "B")
    assert edited.HasField("edited_at") and edited.case.question == CASE.question
    found = await content.stub.Search(pb.SearchRequest(text="dapagliflozin"))
    assert [p.post_id for p in found.posts] == [case.post_id], "search follows the edit"

    commenter = alias()
    comment = (
        await content.stub.AddComment(
            pb.AddCommentRequest(post_id=case.post_id, author_alias_id=commenter, body="Yes.")
        )
    ).comment
    refused = await rpc_error(
        content.stub.EditComment(
            pb.EditCommentRequest(comment_id=comment.comment_id, author_alias_id=author, body="x")
        )
    )
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    changed = (
        await content.stub.EditComment(
            pb.EditCommentRequest(
                comment_id=comment.comment_id, author_alias_id=commenter, body="Yes, carefully."
            )
        )
    ).comment
    assert changed.body == "Yes, carefully." and changed.HasField("edited_at")


async def test_deleted_comments_are_tombstones_and_deleted_posts_leave_every_list(
    content: ContentClient,
) -> None:
    author, commenter = alias(), alias()
    post = await content.post(author_alias_id=author, title="Quiet night in the ED")
    top = (
        await content.stub.AddComment(
            pb.AddCommentRequest(post_id=post.post_id, author_alias_id=commenter, body="Lucky.")
        )
    ).comment
    await content.stub.AddComment(
        pb.AddCommentRequest(
            post_id=post.post_id, parent_id=top.comment_id, author_alias_id=author, body="Yes."
        )
    )
    tomb = (
        await content.stub.DeleteComment(
            pb.DeleteCommentRequest(comment_id=top.comment_id, author_alias_id=commenter)
        )
    ).comment
    assert tomb.deleted and (tomb.body, tomb.author_alias_id) == ("", "")
    pages = await content.stub.BatchListComments(
        pb.BatchListCommentsRequest(queries=[pb.CommentPageQuery(post_id=post.post_id)])
    )
    thread = pages.pages[0].comments
    assert [c.deleted for c in thread] == [True, False], "the reply keeps its place"
    assert thread[0].author_alias_id == "" and thread[1].parent_id == top.comment_id
    counts = await content.stub.BatchCountComments(
        pb.BatchCountCommentsRequest(post_ids=[post.post_id])
    )
    assert counts.counts[0].count == 1
    again = await rpc_error(
        content.stub.DeleteComment(
            pb.DeleteCommentRequest(comment_id=top.comment_id, author_alias_id=commenter)
        )
    )
    assert again.code() == grpc.StatusCode.NOT_FOUND

    assert post.post_id in await _feed(content)
    denied = await rpc_error(
        content.stub.DeletePost(pb.DeletePostRequest(post_id=post.post_id, author_alias_id=alias()))
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    await content.stub.DeletePost(
        pb.DeletePostRequest(post_id=post.post_id, author_alias_id=author)
    )
    assert post.post_id not in await _feed(content)
    assert not (await content.stub.Search(pb.SearchRequest(text="quiet night"))).posts
    gone = (await content.stub.GetPost(pb.GetPostRequest(post_id=post.post_id))).post
    assert gone.deleted and (gone.title, gone.body) == ("", "")
    for call in (
        content.stub.EditPost(
            pb.EditPostRequest(post_id=post.post_id, author_alias_id=author, title="t", body="b")
        ),
        content.stub.AddComment(
            pb.AddCommentRequest(post_id=post.post_id, author_alias_id=author, body="b")
        ),
    ):
        assert (await rpc_error(call)).code() == grpc.StatusCode.NOT_FOUND


async def test_feed_filters_by_case_status_and_by_a_list_of_communities(
    content: ContentClient,
) -> None:
    author = alias()
    open_case = await content.case(author_alias_id=author)
    solved_case = await content.case(author_alias_id=author)
    lounge = await content.post(author_alias_id=author)
    await content.stub.MarkCaseSolved(
        pb.MarkCaseSolvedRequest(post_id=solved_case.post_id, author_alias_id=author)
    )
    assert await _feed(content, case_status=tpb.CASE_STATUS_SOLVED) == [solved_case.post_id]
    assert await _feed(content, case_status=tpb.CASE_STATUS_OPEN) == [open_case.post_id]
    searched = await content.stub.Search(
        pb.SearchRequest(text="SGLT2", case_status=tpb.CASE_STATUS_SOLVED)
    )
    assert [p.post_id for p in searched.posts] == [solved_case.post_id]
    only = await _feed(content, community_ids=["lounge-stories"], only_communities=True)
    assert only == [lounge.post_id]
    assert await _feed(content, only_communities=True) == [], "following nothing"
    error = await rpc_error(
        content.stub.ListFeed(pb.ListFeedRequest(community_id="cardiology", only_communities=True))
    )
    assert set(violations(error)) == {"community_id"}


async def test_marking_a_case_solved_announces_case_solved(
    content_events: EventsClient,
) -> None:
    events = content_events
    await events.start_bus_only()
    author = alias()
    case = await events.content.case(author_alias_id=author)
    solved = (
        await events.content.stub.MarkCaseSolved(
            pb.MarkCaseSolvedRequest(post_id=case.post_id, author_alias_id=author, resolution="r")
        )
    ).post
    await events.relay.publish_pending()

    def solved_events(records: list[Record]) -> list[Event]:
        # The topic is shared with other tests on a real broker: this post's events only.
        return [
            r.event
            for r in records
            if r.key == case.post_id.encode() and r.event and r.event.type == CASE_SOLVED
        ]

    found = solved_events(await events.read(CONTENT_POSTS, lambda rs: bool(solved_events(rs))))
    assert len(found) == 1
    assert found[0].decode(cpb.CaseSolved) == cpb.CaseSolved(
        post_id=case.post_id,
        community_id="cardiology",
        author_alias_id=author,
        solved_at=solved.case.solved_at,
    )
