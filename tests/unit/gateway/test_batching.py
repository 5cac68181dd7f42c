"""One batched call per upstream RPC per request, and no persona or community call when warm.

The bench's own feed and post-page queries (tests/perf/queries.py) run through the real
Strawberry schema against counting fakes (fake_upstreams.py): no servers, milliseconds.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fake_upstreams import FakeUpstreams, context, reader
from perf.queries import FEED, POST_PAGE

from gateway.caches import SharedCaches
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings
from plumbing.auth import VerificationStatus

SCHEMA = build_schema(GatewaySettings())

#: Every RPC a feed page needs, once each, whatever the page size.
FEED_CALLS = Counter(
    {
        "ListFeed": 1,
        "BatchGetCommunities": 1,
        "BatchDescribeAliases": 1,
        "BatchCheckOwnership": 1,
        "BatchCountComments": 1,
        "BatchListComments": 1,
        "BatchGetThreadAliases": 1,
        "BatchGetReactionSummaries": 1,
        "BatchGetPolls": 1,
    }
)
CACHED = {"BatchDescribeAliases", "BatchGetCommunities"}


async def run(upstreams: FakeUpstreams, query: str, **variables: Any) -> dict[str, Any]:
    result = await SCHEMA.execute(
        query, variable_values=variables or None, context_value=context(upstreams, reader())
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


async def test_a_feed_page_costs_one_call_per_rpc() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=20, comments=3)
    data = await run(upstreams, FEED)
    posts = data["feed"]["nodes"]
    assert len(posts) == 20 and all(len(p["comments"]["nodes"]) == 3 for p in posts)
    assert upstreams.calls.counts() == FEED_CALLS
    # Post authors and comment authors in one call each (gateway/author_batches.py).
    for rpc in ("BatchDescribeAliases", "BatchCheckOwnership"):
        asked = [keys for name, keys in upstreams.calls.log if name == rpc]
        assert [len(keys) for keys in asked] == [80], rpc


async def test_the_feed_costs_the_same_calls_at_any_page_size() -> None:
    small = FakeUpstreams.seeded(SharedCaches.disabled(), posts=2, comments=3)
    await run(small, FEED)
    assert small.calls.counts() == FEED_CALLS


async def test_a_post_page_with_20_comments_costs_one_call_per_rpc() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=3, comments=20)
    data = await run(upstreams, POST_PAGE, id="pst_001")  # a poll
    assert len(data["post"]["comments"]["nodes"]) == 20
    expected = FEED_CALLS - Counter({"ListFeed": 1}) + Counter({"BatchGetPosts": 1})
    assert upstreams.calls.counts() == expected


async def test_with_a_warm_cache_personas_and_communities_are_not_asked_again() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.from_settings(GatewaySettings()))
    first = await run(upstreams, FEED)
    upstreams.calls.clear()
    second = await run(upstreams, FEED)
    assert second == first
    assert upstreams.calls.counts() == FEED_CALLS - Counter(dict.fromkeys(CACHED, 1))
    upstreams.calls.clear()
    await run(upstreams, POST_PAGE, id="pst_000")
    assert not CACHED & set(upstreams.calls.counts())


async def test_viewer_flags_are_never_shared_through_the_cache() -> None:
    """The cache holds personas; who is asking is answered per request. The fakes' viewer
    owns als_p000 (first post) and als_c000_00 (its first comment)."""
    upstreams = FakeUpstreams.seeded(SharedCaches.from_settings(GatewaySettings()))
    mine = await run(upstreams, FEED)
    upstreams.anonymity.mine = frozenset()  # another reader, same warm cache
    theirs = await run(upstreams, FEED)
    first_mine, first_theirs = mine["feed"]["nodes"][0], theirs["feed"]["nodes"][0]
    assert first_mine["viewerIsAuthor"] and first_mine["author"]["isViewer"]
    assert not first_theirs["viewerIsAuthor"] and not first_theirs["author"]["isViewer"]
    comment = first_theirs["comments"]["nodes"][0]
    assert not comment["viewerIsAuthor"] and not comment["author"]["isViewer"]
    assert upstreams.calls.counts()["BatchCheckOwnership"] == 2  # asked in each request


async def test_a_warm_cache_does_not_let_a_non_reader_in() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.from_settings(GatewaySettings()))
    await run(upstreams, FEED)
    upstreams.calls.clear()
    for viewer in (None, reader("usr_pending", status=VerificationStatus.PENDING)):
        result = await SCHEMA.execute(FEED, context_value=context(upstreams, viewer))
        assert result.data is None or result.data["feed"] is None
        assert result.errors is not None
        assert "handle" not in str(result.data)
    assert upstreams.calls.log == []


async def test_authors_not_selected_under_comments_are_not_asked_about() -> None:
    """Folding comment authors into the post authors' calls must not ask anonymity about
    aliases the query does not show: no comment author, no ownership of comment authors."""
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=20, comments=3)
    query = """{ feed(first: 20) { nodes { id viewerIsAuthor author { handle }
      comments(first: 3) { nodes { id body } } } } }"""
    await run(upstreams, query)
    for rpc in ("BatchDescribeAliases", "BatchCheckOwnership"):
        asked = [keys for name, keys in upstreams.calls.log if name == rpc]
        assert len(asked) == 1 and all(a.startswith("als_p") for a in asked[0]), rpc
    upstreams.calls.clear()
    query = """{ feed(first: 20) { nodes { id author { handle }
      comments(first: 3) { nodes { author { handle } } } } } }"""
    await run(upstreams, query)
    assert upstreams.calls.counts()["BatchDescribeAliases"] == 1
    assert "BatchCheckOwnership" not in upstreams.calls.counts()


async def test_more_authors_than_anonymity_takes_in_one_call_are_split() -> None:
    """Post and comment authors together may pass anonymity's 500 ids per call."""
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=20, comments=30)
    query = """{ feed(first: 20) { nodes { author { handle }
      comments(first: 30) { nodes { author { handle } } } } } }"""
    data = await run(upstreams, query)
    assert all(c["author"]["handle"] for p in data["feed"]["nodes"] for c in p["comments"]["nodes"])
    asked = [keys for name, keys in upstreams.calls.log if name == "BatchDescribeAliases"]
    assert sorted(len(keys) for keys in asked) == [120, 500]
