"""BatchGetFeedCards: one call answers what the four batch reads answer, part by part."""

from __future__ import annotations

import pytest
from content_harness import ContentClient, alias, rpc_error

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import types_pb2 as tpb


async def _seed(content: ContentClient) -> list[str]:
    """A discussion with comments and reactions, a poll with votes, a post with nothing."""
    busy, poll, quiet = await content.post(), await content.poll(), await content.post()
    for i in range(3):
        await content.stub.AddComment(
            pb.AddCommentRequest(post_id=busy.post_id, author_alias_id=alias(), body=f"c{i}")
        )
    for kind in (tpb.REACTION_KIND_LIKE, tpb.REACTION_KIND_AGREE, tpb.REACTION_KIND_LIKE):
        await content.stub.React(
            pb.ReactRequest(post_id=busy.post_id, reactor_alias_id=alias(), kind=kind)
        )
    for option in (0, 1, 1):
        await content.stub.VotePoll(
            pb.VotePollRequest(post_id=poll.post_id, voter_alias_id=alias(), option_index=option)
        )
    return [busy.post_id, poll.post_id, quiet.post_id, "pst_" + "z" * 26]


async def test_the_fat_answer_equals_the_single_rpcs(content: ContentClient) -> None:
    ids = await _seed(content)
    first_page = await content.stub.BatchListComments(
        pb.BatchListCommentsRequest(queries=[pb.CommentPageQuery(post_id=ids[0], first=2)])
    )
    after = first_page.pages[0].next_cursor
    args = [pb.CommentPageArgs(first=2), pb.CommentPageArgs(first=5, after=after)]
    cards = await content.stub.BatchGetFeedCards(
        pb.BatchGetFeedCardsRequest(
            post_ids=ids, comment_counts=True, comment_pages=args, reactions=True, polls=True
        )
    )
    counts = await content.stub.BatchCountComments(pb.BatchCountCommentsRequest(post_ids=ids))
    # The cursor belongs to the first post; on the others it pages after the same position.
    queries = [
        pb.CommentPageQuery(post_id=p, first=a.first, after=a.after) for a in args for p in ids
    ]
    pages = await content.stub.BatchListComments(pb.BatchListCommentsRequest(queries=queries))
    summaries = await content.stub.BatchGetReactionSummaries(
        pb.BatchGetReactionSummariesRequest(post_ids=ids)
    )
    polls = await content.stub.BatchGetPolls(pb.BatchGetPollsRequest(post_ids=ids))
    assert sorted(cards.counts, key=str) == sorted(counts.counts, key=str)
    assert {c.post_id: c.count for c in cards.counts}[ids[0]] == 3
    assert list(cards.comment_pages) == list(pages.pages)
    assert [len(p.comments) for p in cards.comment_pages[:3]] == [2, 0, 0]
    assert list(cards.summaries) == list(summaries.summaries)
    assert cards.summaries[0].total == 3
    assert list(cards.polls) == list(polls.polls) and cards.polls[0].total_votes == 3
    assert list(cards.missing_poll_ids) == list(polls.missing_post_ids)


async def test_parts_not_asked_for_are_not_answered(content: ContentClient) -> None:
    ids = await _seed(content)
    cards = await content.stub.BatchGetFeedCards(
        pb.BatchGetFeedCardsRequest(post_ids=ids, reactions=True)
    )
    assert len(cards.summaries) == 3
    assert not cards.counts and not cards.comment_pages and not cards.polls
    assert not cards.missing_poll_ids


async def test_limits_are_those_of_the_single_rpcs(content: ContentClient) -> None:
    too_many = ["pst_" + f"{i:026d}" for i in range(101)]
    error = await rpc_error(
        content.stub.BatchGetFeedCards(pb.BatchGetFeedCardsRequest(post_ids=too_many))
    )
    assert error.code().name == "INVALID_ARGUMENT"


async def test_a_feed_or_search_page_carries_the_cards_of_its_posts(content: ContentClient) -> None:
    """ListFeed and Search asked for `cards` answer, for the page's posts, what
    BatchGetFeedCards answers for them: a page of feed cards in one call."""
    await _seed(content)
    parts = pb.FeedCardParts(
        comment_counts=True,
        comment_pages=[pb.CommentPageArgs(first=2)],
        reactions=True,
        polls=True,
    )
    feed = await content.stub.ListFeed(pb.ListFeedRequest(first=10, cards=parts))
    found = await content.stub.Search(pb.SearchRequest(text="night shift", first=10, cards=parts))
    for page in (feed, found):
        ids = [p.post_id for p in page.posts]
        alone = await content.stub.BatchGetFeedCards(
            pb.BatchGetFeedCardsRequest(
                post_ids=ids,
                comment_counts=True,
                comment_pages=parts.comment_pages,
                reactions=True,
                polls=True,
            )
        )
        assert ids and page.HasField("cards") and page.cards == alone
    assert len(feed.posts) == 3 and len(feed.cards.polls) == 1
    assert {c.count for c in feed.cards.counts} == {3, 0}
    plain = await content.stub.ListFeed(pb.ListFeedRequest(first=10))
    assert not plain.HasField("cards") and list(plain.posts) == list(feed.posts)


async def test_a_page_whose_cards_fail_goes_out_without_them(
    content: ContentClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed read of the cards costs the cards, not the page: the gateway asks for them
    with BatchGetFeedCards when a page comes without them."""
    await _seed(content)

    async def failing(asked: object) -> object:
        raise RuntimeError("the cards' read failed")

    monkeypatch.setattr(content.instance.engagement, "feed_cards", failing)
    parts = pb.FeedCardParts(comment_counts=True, reactions=True, polls=True)
    feed = await content.stub.ListFeed(pb.ListFeedRequest(first=10, cards=parts))
    found = await content.stub.Search(pb.SearchRequest(text="night shift", first=10, cards=parts))
    assert len(feed.posts) == 3 and not feed.HasField("cards")
    assert found.posts and not found.HasField("cards")
