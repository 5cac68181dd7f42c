"""The content client pairs batched comment pages with their queries by position, not post id."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import types_pb2 as types
from gateway.clients.content import ContentClient
from gateway.loaders import create_loaders


class FakeStub:
    """BatchListComments as content answers it: one page per query, in the queries' order."""

    def __init__(self, drop_last: bool = False) -> None:
        self.requests: list[pb.BatchListCommentsRequest] = []
        self.drop_last = drop_last

    async def BatchListComments(
        self, request: pb.BatchListCommentsRequest
    ) -> pb.BatchListCommentsResponse:
        self.requests.append(request)
        pages = [
            pb.CommentPage(
                post_id=q.post_id,
                comments=[
                    types.Comment(comment_id=f"{q.post_id}/{q.after or 'start'}/{n}")
                    for n in range(q.first)
                ],
            )
            for q in request.queries
        ]
        return pb.BatchListCommentsResponse(pages=pages[:-1] if self.drop_last else pages)


@pytest.fixture
async def client() -> AsyncIterator[ContentClient]:
    found = ContentClient("127.0.0.1:9", deadline=1.0)  # never dialled: the stub is a fake
    yield found
    await found.close()


def comment_ids(page: pb.CommentPage | None) -> list[str]:
    assert page is not None
    return [c.comment_id for c in page.comments]


async def test_one_post_with_two_arguments_gets_two_pages_in_one_call(
    client: ContentClient,
) -> None:
    stub = FakeStub()
    client._stub = stub  # type: ignore[assignment]
    unused = SimpleNamespace(describe=None)  # anonymity is not asked here
    loaders = create_loaders(unused, client, None)  # type: ignore[arg-type]

    one, three, after = await asyncio.gather(
        loaders.comment_pages.load(("pst_a", 1, "")),
        loaders.comment_pages.load(("pst_a", 3, "")),
        loaders.comment_pages.load(("pst_a", 1, "c1")),
    )

    assert comment_ids(one) == ["pst_a/start/0"]
    assert comment_ids(three) == ["pst_a/start/0", "pst_a/start/1", "pst_a/start/2"]
    assert comment_ids(after) == ["pst_a/c1/0"]
    (request,) = stub.requests
    assert [(q.post_id, q.first, q.after) for q in request.queries] == [
        ("pst_a", 1, ""),
        ("pst_a", 3, ""),
        ("pst_a", 1, "c1"),
    ]


async def test_a_reply_with_a_page_missing_is_an_error_not_a_wrong_page(
    client: ContentClient,
) -> None:
    client._stub = FakeStub(drop_last=True)  # type: ignore[assignment]

    with pytest.raises(ValueError, match="shorter"):
        await client.comment_pages([("pst_a", 1, ""), ("pst_b", 1, "")])


class CardsStub:
    """BatchGetFeedCards as content answers it: pages entry by entry, distinct posts in order."""

    async def BatchGetFeedCards(
        self, request: pb.BatchGetFeedCardsRequest
    ) -> pb.BatchGetFeedCardsResponse:
        posts = list(dict.fromkeys(request.post_ids))
        return pb.BatchGetFeedCardsResponse(
            comment_pages=[
                pb.CommentPage(
                    post_id=p, comments=[types.Comment(comment_id=f"{p}/{a.first}/{a.after}")]
                )
                for a in request.comment_pages
                for p in posts
            ]
        )


async def test_feed_card_pages_pair_by_position_with_duplicate_posts(
    client: ContentClient,
) -> None:
    client._stub = CardsStub()  # type: ignore[assignment]
    cards = await client.feed_cards(["pst_a", "pst_b", "pst_a"], pages=[(1, ""), (2, "x")])
    assert {k: comment_ids(v) for k, v in cards.pages.items()} == {
        ("pst_a", 1, ""): ["pst_a/1/"],
        ("pst_b", 1, ""): ["pst_b/1/"],
        ("pst_a", 2, "x"): ["pst_a/2/x"],
        ("pst_b", 2, "x"): ["pst_b/2/x"],
    }
