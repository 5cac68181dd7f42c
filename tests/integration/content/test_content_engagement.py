"""Comments, reactions and polls over real gRPC: threads, one reaction and one vote per alias."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
from content_harness import ContentClient, alias, rpc_error, violations

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import types_pb2 as tpb
from services.content.domain.engagement import ReactionKind
from services.content.domain.ids import new_post_id
from services.content.domain.posts import Post, PostKind


async def comment(content: ContentClient, post_id: str, body: str, **extra: str) -> tpb.Comment:
    request = pb.AddCommentRequest(post_id=post_id, author_alias_id=alias(), body=body, **extra)
    return (await content.stub.AddComment(request)).comment


async def test_comments_thread_by_parent_and_page_oldest_first(content: ContentClient) -> None:
    post = await content.case()
    top = await comment(content, post.post_id, "Check a BNP and repeat the echo.")
    reply = await comment(
        content, post.post_id, "Agree, NT-proBNP 2400 here.", parent_id=top.comment_id
    )
    assert reply.parent_id == top.comment_id and top.parent_id == ""
    rest = [await comment(content, post.post_id, f"Thought {i}") for i in range(3)]
    ids: list[str] = []
    after = ""
    while True:
        reply_page = await content.stub.BatchListComments(
            pb.BatchListCommentsRequest(
                queries=[pb.CommentPageQuery(post_id=post.post_id, first=2, after=after)]
            )
        )
        page = reply_page.pages[0]
        ids += [c.comment_id for c in page.comments]
        if not page.has_next_page:
            break
        after = page.next_cursor
    assert ids == [top.comment_id, reply.comment_id, *(c.comment_id for c in rest)]


async def test_batch_list_and_count_answer_per_post(content: ContentClient) -> None:
    one, two = await content.post(), await content.post()
    for i in range(3):
        await comment(content, one.post_id, f"c{i}")
    missing = "pst_" + "z" * 26
    pages = await content.stub.BatchListComments(
        pb.BatchListCommentsRequest(
            queries=[
                pb.CommentPageQuery(post_id=one.post_id, first=2),
                pb.CommentPageQuery(post_id=two.post_id),
                pb.CommentPageQuery(post_id=missing),
            ]
        )
    )
    assert [p.post_id for p in pages.pages] == [one.post_id, two.post_id, missing]
    assert [len(p.comments) for p in pages.pages] == [2, 0, 0]
    assert pages.pages[0].has_next_page and not pages.pages[1].has_next_page
    counts = await content.stub.BatchCountComments(
        pb.BatchCountCommentsRequest(post_ids=[one.post_id, two.post_id, missing])
    )
    assert {c.post_id: c.count for c in counts.counts} == {one.post_id: 3, two.post_id: 0}


async def test_first_pages_of_many_posts_match_the_pages_asked_one_by_one(
    content: ContentClient,
) -> None:
    """The feed's shape (first pages of several posts, read in one query) answers exactly what
    one query per post answers: same comments, order, flags and cursors, whatever the mix."""
    posts = [await content.post() for _ in range(3)]
    for n, post in enumerate(posts):
        for i in range(n + 2):
            await comment(content, post.post_id, f"p{n} c{i}")
    ids = [p.post_id for p in posts]
    cursor = (
        (
            await content.stub.BatchListComments(
                pb.BatchListCommentsRequest(queries=[pb.CommentPageQuery(post_id=ids[2], first=1)])
            )
        )
        .pages[0]
        .next_cursor
    )
    queries = [
        pb.CommentPageQuery(post_id=ids[0], first=3),
        pb.CommentPageQuery(post_id=ids[1], first=2),
        pb.CommentPageQuery(post_id=ids[2], first=2),
        pb.CommentPageQuery(post_id=ids[1], first=3),
        pb.CommentPageQuery(post_id=ids[0], first=3),
        pb.CommentPageQuery(post_id=ids[2], first=2, after=cursor),
    ]
    together = await content.stub.BatchListComments(pb.BatchListCommentsRequest(queries=queries))
    alone = [
        (await content.stub.BatchListComments(pb.BatchListCommentsRequest(queries=[q]))).pages[0]
        for q in queries
    ]
    assert list(together.pages) == alone
    assert [len(p.comments) for p in alone] == [2, 2, 2, 3, 2, 2]
    assert [p.has_next_page for p in alone] == [False, True, True, False, False, True]


async def test_batch_get_comments_finds_by_id_and_blanks_hidden_ones(
    content: ContentClient,
) -> None:
    post = await content.post()
    shown = await comment(content, post.post_id, "Visible advice.")
    hidden = await comment(content, post.post_id, "Soon hidden.")
    # As an AliasSuspended event would (content admits no SetAliasHidden call).
    await content.instance.service.set_alias_hidden([hidden.author_alias_id], True)
    unknown = shown.comment_id[:-4] + "zzzz"
    reply = await content.stub.BatchGetComments(
        pb.BatchGetCommentsRequest(comment_ids=[shown.comment_id, hidden.comment_id, unknown])
    )
    found = {c.comment_id: c for c in reply.comments}
    assert found[shown.comment_id].body == "Visible advice."
    assert found[hidden.comment_id].hidden and found[hidden.comment_id].body == ""
    assert list(reply.missing_comment_ids) == [unknown]
    too_many = [f"cmt_{i}" for i in range(501)]
    error = await rpc_error(
        content.stub.BatchGetComments(pb.BatchGetCommentsRequest(comment_ids=too_many))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "comment_ids" in violations(error)


async def test_comment_errors_are_precise(content: ContentClient) -> None:
    post, other = await content.post(), await content.post()
    foreign = await comment(content, other.post_id, "elsewhere")
    error = await rpc_error(comment(content, post.post_id, "reply", parent_id=foreign.comment_id))
    assert set(violations(error)) == {"parent_id"}
    error = await rpc_error(comment(content, post.post_id, "Fax 212-555-0147 the notes"))
    assert "FAX_NUMBER" in violations(error)["body"]
    error = await rpc_error(comment(content, post.post_id, ""))
    assert set(violations(error)) == {"body"}
    error = await rpc_error(comment(content, "pst_" + "q" * 26, "hello"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_a_retried_comment_returns_the_first(content: ContentClient) -> None:
    post = await content.post()
    author = alias()
    request = pb.AddCommentRequest(
        request_id="c-1", post_id=post.post_id, author_alias_id=author, body="First!"
    )
    first = (await content.stub.AddComment(request)).comment
    again = (await content.stub.AddComment(request)).comment
    assert again.comment_id == first.comment_id
    counts = await content.stub.BatchCountComments(
        pb.BatchCountCommentsRequest(post_ids=[post.post_id])
    )
    assert counts.counts[0].count == 1


async def test_one_reaction_per_alias_and_post(content: ContentClient) -> None:
    post = await content.post()
    me, you = alias(), alias()
    react = content.stub.React
    await react(
        pb.ReactRequest(post_id=post.post_id, reactor_alias_id=me, kind=tpb.REACTION_KIND_LIKE)
    )
    await react(
        pb.ReactRequest(post_id=post.post_id, reactor_alias_id=you, kind=tpb.REACTION_KIND_LIKE)
    )
    changed = await react(
        pb.ReactRequest(post_id=post.post_id, reactor_alias_id=me, kind=tpb.REACTION_KIND_SUPPORT)
    )
    summary = changed.summary
    assert [(c.kind, c.count) for c in summary.counts] == [
        (tpb.REACTION_KIND_LIKE, 1),
        (tpb.REACTION_KIND_SUPPORT, 1),
    ]
    assert summary.total == 2 and summary.viewer_reaction == tpb.REACTION_KIND_SUPPORT
    retracted = await content.stub.RetractReaction(
        pb.RetractReactionRequest(post_id=post.post_id, reactor_alias_id=me)
    )
    assert retracted.summary.total == 1
    assert retracted.summary.viewer_reaction == tpb.REACTION_KIND_UNSPECIFIED
    other = await content.post()
    summaries = await content.stub.BatchGetReactionSummaries(
        pb.BatchGetReactionSummariesRequest(post_ids=[post.post_id, other.post_id])
    )
    by_post = {s.post_id: s for s in summaries.summaries}
    # Batch reads know no viewer: the reactors, for the gateway to match its viewer against.
    assert by_post[post.post_id].viewer_reaction == tpb.REACTION_KIND_UNSPECIFIED
    assert [(r.alias_id, r.kind) for r in by_post[post.post_id].reactors] == [
        (you, tpb.REACTION_KIND_LIKE)
    ]
    assert by_post[post.post_id].reactors_next_cursor == ""
    assert by_post[other.post_id].total == 0 and not by_post[other.post_id].reactors
    error = await rpc_error(react(pb.ReactRequest(post_id=post.post_id, reactor_alias_id=me)))
    assert set(violations(error)) == {"kind"}


async def test_poll_batch_reads_show_counts_and_voters_and_votes_are_final(
    content: ContentClient,
) -> None:
    poll = await content.poll()
    early, voter, late = alias(), alias(), alias()
    await content.stub.VotePoll(
        pb.VotePollRequest(post_id=poll.post_id, voter_alias_id=early, option_index=0)
    )
    before = await content.stub.BatchGetPolls(pb.BatchGetPollsRequest(post_ids=[poll.post_id]))
    seen = before.polls[0]
    assert [o.text for o in seen.options] == ["Yes", "No", "Depends"]
    # Every count for the gateway, which holds them back from viewers who have not voted.
    assert [o.votes for o in seen.options] == [1, 0, 0] and seen.total_votes == 1
    assert not seen.viewer_has_voted and list(seen.voter_alias_ids) == [early]
    voted = await content.stub.VotePoll(
        pb.VotePollRequest(post_id=poll.post_id, voter_alias_id=voter, option_index=2)
    )
    assert [o.votes for o in voted.poll.options] == [1, 0, 1]
    assert voted.poll.total_votes == 2 and voted.poll.viewer_option_index == 2
    twice = await rpc_error(
        content.stub.VotePoll(
            pb.VotePollRequest(post_id=poll.post_id, voter_alias_id=voter, option_index=0)
        )
    )
    assert twice.code() == grpc.StatusCode.FAILED_PRECONDITION
    after = await content.stub.BatchGetPolls(pb.BatchGetPollsRequest(post_ids=[poll.post_id]))
    assert sorted(after.polls[0].voter_alias_ids) == sorted([early, voter])
    assert after.polls[0].total_votes == 2
    bad = await rpc_error(
        content.stub.VotePoll(
            pb.VotePollRequest(post_id=poll.post_id, voter_alias_id=late, option_index=3)
        )
    )
    assert set(violations(bad)) == {"option_index"}


async def test_a_closed_poll_shows_results_and_takes_no_votes(content: ContentClient) -> None:
    post_id = new_post_id()
    closed_at = datetime.now(UTC) - timedelta(hours=1)
    async with content.instance.store.transaction() as repo:
        await repo.add_post(
            Post(
                post_id,
                PostKind.POLL,
                "lounge-politics",
                "scp_1",
                alias(),
                "Q?",
                "",
                closed_at - timedelta(days=1),
                None,
                ("A", "B"),
                closed_at,
            )
        )
    error = await rpc_error(
        content.stub.VotePoll(
            pb.VotePollRequest(post_id=post_id, voter_alias_id=alias(), option_index=0)
        )
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    polls = await content.stub.BatchGetPolls(pb.BatchGetPollsRequest(post_ids=[post_id]))
    assert polls.polls[0].closed and [o.votes for o in polls.polls[0].options] == [0, 0]
    assert polls.polls[0].total_votes == 0 and polls.polls[0].HasField("total_votes")


async def test_batch_get_polls_reports_non_polls_missing(content: ContentClient) -> None:
    discussion = await content.post()
    reply = await content.stub.BatchGetPolls(pb.BatchGetPollsRequest(post_ids=[discussion.post_id]))
    assert list(reply.polls) == [] and list(reply.missing_post_ids) == [discussion.post_id]
    error = await rpc_error(
        content.stub.VotePoll(
            pb.VotePollRequest(post_id=discussion.post_id, voter_alias_id=alias(), option_index=0)
        )
    )
    assert set(violations(error)) == {"post_id"}


async def test_concurrent_votes_by_one_voter_count_once(content: ContentClient) -> None:
    poll = await content.poll()
    voter = alias()
    calls = [
        content.stub.VotePoll(
            pb.VotePollRequest(post_id=poll.post_id, voter_alias_id=voter, option_index=i % 2)
        )
        for i in range(4)
    ]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(refused) == 3
    assert {e.code() for e in refused} == {grpc.StatusCode.FAILED_PRECONDITION}
    polls = await content.stub.BatchGetPolls(pb.BatchGetPollsRequest(post_ids=[poll.post_id]))
    assert polls.polls[0].total_votes == 1 and list(polls.polls[0].voter_alias_ids) == [voter]


async def test_participant_sets_page_past_the_bound_and_batches_are_bounded(
    content: ContentClient,
) -> None:
    """200 reactors per post per page; the rest through BatchListReactors, none lost or
    repeated; batch reads take at most 100 posts."""
    post = await content.post()
    poll = await content.post(kind=tpb.POST_KIND_POLL, poll_options=["A", "B"])
    reactors = sorted(alias() for _ in range(450))
    now = datetime.now(UTC)
    async with content.instance.store.transaction() as repo:
        for alias_id in reactors:
            await repo.set_reaction(post.post_id, alias_id, ReactionKind.AGREE, now)
            await repo.add_vote(poll.post_id, alias_id, 1, now)
    first = (
        await content.stub.BatchGetReactionSummaries(
            pb.BatchGetReactionSummariesRequest(post_ids=[post.post_id])
        )
    ).summaries[0]
    assert first.total == 450 and len(first.reactors) == 200
    seen = [r.alias_id for r in first.reactors]
    cursor = first.reactors_next_cursor
    while cursor:
        reply = await content.stub.BatchListReactors(
            pb.BatchListReactorsRequest(
                queries=[pb.ParticipantPageQuery(post_id=post.post_id, after=cursor)]
            )
        )
        (page,) = reply.pages
        seen += [r.alias_id for r in page.reactors]
        cursor = page.next_cursor
    assert seen == reactors

    polled = await content.stub.BatchGetPolls(pb.BatchGetPollsRequest(post_ids=[poll.post_id]))
    voters = list(polled.polls[0].voter_alias_ids)
    cursor = polled.polls[0].voters_next_cursor
    while cursor:
        reply2 = await content.stub.BatchListPollVoters(
            pb.BatchListPollVotersRequest(
                queries=[pb.ParticipantPageQuery(post_id=poll.post_id, after=cursor)]
            )
        )
        voters += list(reply2.pages[0].voter_alias_ids)
        cursor = reply2.pages[0].next_cursor
    assert voters == reactors

    too_many = [post.post_id] * 101
    error = await rpc_error(
        content.stub.BatchGetReactionSummaries(
            pb.BatchGetReactionSummariesRequest(post_ids=[f"{p}" for p in too_many])
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
