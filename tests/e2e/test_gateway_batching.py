"""DataLoaders: the upstream calls of a feed query do not grow with the page size."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support.system import System

from gateway.clients import anonymity, base, content, identity

FEED = """query($n: Int!) { feed(first: $n) { nodes {
  id title kind createdAt viewerIsAuthor commentCount
  community { name }
  author { aliasId handle verifiedPhysician specialty displayName isViewer }
  reactions { total viewerReaction }
  poll { totalVotes viewerHasVoted options { votes } }
  comments(first: 3) { nodes { body viewerIsAuthor author { handle isViewer } } }
} } }"""


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts every upstream gRPC call the gateway makes, by RPC name."""
    counted: Counter[str] = Counter()
    original = base.invoke

    async def counting(
        method: Callable[..., Awaitable[Any]], request: Any, metadata: Any = None
    ) -> Any:
        counted[type(request).__name__.removesuffix("Request")] += 1
        return await original(method, request, metadata)

    for module in (anonymity, content, identity):
        monkeypatch.setattr(module, "invoke", counting)
    return counted


async def test_feed_calls_are_the_same_for_5_and_50_posts(
    system: System, calls: Counter[str]
) -> None:
    _, author = await system.account()
    _, reader = await system.account()
    for number in range(50):
        poll = number % 2 == 1
        created = await system.graphql(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
            {
                "i": {
                    "kind": "POLL" if poll else "DISCUSSION",
                    "community": "lounge-stories",
                    "title": f"Post {number}",
                    "body": "Shift notes.",
                    "visibility": ("IDENTIFIED", "PSEUDONYMOUS", "ANONYMOUS")[number % 3],
                    "pollOptions": ["Yes", "No"] if poll else None,
                }
            },
            token=author,
        )
        await system.graphql(
            "mutation($i: AddCommentInput!) { addComment(input: $i) { id } }",
            {
                "i": {
                    "postId": created["data"]["createPost"]["id"],
                    "body": "Same here.",
                    "visibility": "ANONYMOUS",
                }
            },
            token=reader,
        )

    counts = {}
    for size in (5, 50):
        calls.clear()
        body = await system.graphql(FEED, {"n": size}, token=reader)
        assert len(body["data"]["feed"]["nodes"]) == size
        counts[size] = dict(calls)
    print(f"upstream calls per feed query: {counts[50]}")
    # Communities and personas come from the gateway's shared caches once seen
    # (gateway/caches.py): the second query may skip them, and never asks them twice.
    cached = {"BatchGetCommunities", "BatchDescribeAliases"}
    assert all(counts[5].get(rpc, 0) <= 1 and counts[50].get(rpc, 0) <= 1 for rpc in cached)
    uncached = [{k: v for k, v in counts[n].items() if k not in cached} for n in (5, 50)]
    assert uncached[0] == uncached[1], counts
    assert all(v == 1 for v in counts[50].values()), counts[50]
