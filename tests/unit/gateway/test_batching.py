"""One batched call per upstream RPC per request, and no persona or community call when warm.

The bench's own feed and post-page queries (tests/perf/queries.py) run through the real
Strawberry schema against counting fakes (fake_upstreams.py): no servers, milliseconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fake_upstreams import FakeAnonymity, FakeUpstreams, context, reader
from graphql import GraphQLResolveInfo
from perf.queries import FEED, POST_PAGE, SEARCH
from strawberry.extensions import SchemaExtension

from gateway.caches import SharedCaches
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings
from plumbing.auth import VerificationStatus

SCHEMA = build_schema(GatewaySettings())

#: Every RPC a feed page needs, once each, whatever the page size: ListFeed carries what a
#: card shows of content (comment counts and pages, reactions, polls), and what the viewer
#: is to the page (thread aliases, ownership) comes in one BatchGetThreadAliases; personas
#: and communities come from the shared cache once warm. No BatchCheckOwnership, no
#: BatchGetFeedCards: a call coming back fails these counts.
FEED_CALLS = Counter(
    {
        "ListFeed": 1,
        "BatchGetCommunities": 1,
        "BatchDescribeAliases": 1,
        "BatchGetThreadAliases": 1,
    }
)
#: A post page: the post, then its cards (one BatchGetFeedCards), and the same people calls.
POST_PAGE_CALLS = (
    FEED_CALLS - Counter({"ListFeed": 1}) + Counter({"BatchGetPosts": 1, "BatchGetFeedCards": 1})
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
    ((_, feed),) = [c for c in upstreams.calls.log if c[0] == "ListFeed"]
    assert set(feed) >= {"counts", "reactions", "polls", ("page", 3, "")}
    # Post authors and comment authors in one call each; the viewer call carries the
    # ownership question for all 80 with the 20 thread scopes (viewerReaction on each post).
    asked = [keys for name, keys in upstreams.calls.log if name == "BatchDescribeAliases"]
    assert [len(keys) for keys in asked] == [80]
    ((_, viewer),) = [c for c in upstreams.calls.log if c[0] == "BatchGetThreadAliases"]
    assert len([k for k in viewer if k.startswith("scp_")]) == 20
    assert len([k for k in viewer if k.startswith("als_")]) == 80


async def test_a_search_page_costs_one_call_per_rpc() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=20, comments=3)
    data = await run(upstreams, SEARCH, text="chest pain")
    assert len(data["search"]["nodes"]) == 20
    assert upstreams.calls.counts() == FEED_CALLS - Counter({"ListFeed": 1}) + Counter(
        {"Search": 1}
    )
    # Search carries the cards; it shows no comments, so none are asked for.
    ((_, asked),) = [c for c in upstreams.calls.log if c[0] == "Search"]
    assert "reactions" in asked and [a for a in asked if isinstance(a, tuple)] == []


async def test_the_feed_costs_the_same_calls_at_any_page_size() -> None:
    small = FakeUpstreams.seeded(SharedCaches.disabled(), posts=2, comments=3)
    await run(small, FEED)
    assert small.calls.counts() == FEED_CALLS


async def test_a_post_page_with_20_comments_costs_one_call_per_rpc() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=3, comments=20)
    data = await run(upstreams, POST_PAGE, id="pst_001")  # a poll
    assert len(data["post"]["comments"]["nodes"]) == 20
    assert upstreams.calls.counts() == POST_PAGE_CALLS


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
    assert upstreams.calls.counts()["BatchGetThreadAliases"] == 2  # asked in each request


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
    for rpc in ("BatchDescribeAliases", "BatchGetThreadAliases"):
        asked = [keys for name, keys in upstreams.calls.log if name == rpc]
        assert len(asked) == 1 and all(a.startswith("als_p") for a in asked[0]), rpc
    upstreams.calls.clear()
    query = """{ feed(first: 20) { nodes { id author { handle }
      comments(first: 3) { nodes { author { handle } } } } } }"""
    await run(upstreams, query)
    assert upstreams.calls.counts()["BatchDescribeAliases"] == 1
    assert "BatchGetThreadAliases" not in upstreams.calls.counts()
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


def _awaited_fields(seen: list[str]) -> Callable[[], SchemaExtension]:
    """An extension recording every field whose resolver handed graphql-core an awaitable."""

    class AwaitedFields(SchemaExtension):
        def resolve(
            self,
            _next: Callable[..., Any],
            root: Any,
            info: GraphQLResolveInfo,
            *args: Any,
            **kwargs: Any,
        ) -> Any:
            result = _next(root, info, *args, **kwargs)
            if inspect.isawaitable(result):
                seen.append(f"{info.parent_type.name}.{info.field_name}")
            return result

    return AwaitedFields


@pytest.mark.parametrize(
    ("query", "variables", "posts", "root"),
    [
        (FEED, {}, 2, "feed"),
        (FEED, {}, 20, "feed"),
        (POST_PAGE, {"id": "pst_001"}, 3, "post"),
        (SEARCH, {"text": "chest pain"}, 20, "search"),
    ],
)
async def test_nothing_below_a_page_is_awaited(
    query: str, variables: dict[str, Any], posts: int, root: str
) -> None:
    """The root field awaits one look-ahead fetch; every field under it is a plain value,
    viewer flags included (≈24 µs saved per field, gateway/schema/prefetch.py)."""
    seen: list[str] = []
    schema = build_schema(GatewaySettings())
    schema.extensions = (*schema.extensions, _awaited_fields(seen))
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=posts, comments=20)
    result = await schema.execute(
        query, variable_values=variables, context_value=context(upstreams, reader())
    )
    assert result.errors is None, result.errors
    assert seen == [f"Query.{root}"]


async def test_fragments_and_aliases_are_read_ahead_like_plain_fields() -> None:
    plain = FakeUpstreams.seeded(SharedCaches.disabled(), posts=5, comments=3)
    expected = await run(plain, FEED)
    spread = FakeUpstreams.seeded(SharedCaches.disabled(), posts=5, comments=3)
    fragments = """query { feed(first: 20) { edges { node { ...P } } } }
    fragment P on Post { id title kind createdAt mine: viewerIsAuthor commentCount
      ... on Post { community { id name } }
      author { ...A } reactions { total viewerReaction counts { reaction count } }
      poll { totalVotes viewerHasVoted closesAt options { index text votes } }
      case { ageBand sex presentingComplaint question specialtyTags status }
      c: comments(first: 3) { nodes { id body createdAt viewerIsAuthor author { ...A } } } }
    fragment A on Author { aliasId handle verifiedPhysician specialty displayName isViewer }"""
    data = await run(spread, fragments)
    assert spread.calls.counts() == FEED_CALLS
    got_nodes = [e["node"] for e in data["feed"]["edges"]]
    for got, want in zip(got_nodes, expected["feed"]["nodes"], strict=True):
        assert got["mine"] == want["viewerIsAuthor"] and got["author"] == want["author"]
        assert got["reactions"] == want["reactions"] and got["poll"] == want["poll"]
        assert [c["author"] for c in got["c"]["nodes"]] == [
            {**c["author"], "specialty": None} for c in want["comments"]["nodes"]
        ]


async def test_fields_not_selected_cost_no_call() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=20, comments=3)
    await run(upstreams, "{ feed(first: 20) { nodes { id title case { question } } } }")
    assert upstreams.calls.counts() == Counter({"ListFeed": 1})
    upstreams.calls.clear()
    # Counts alone do not need the viewer's thread aliases: only `viewerReaction` does.
    await run(upstreams, "{ feed(first: 20) { nodes { id reactions { total } } } }")
    assert upstreams.calls.counts() == Counter({"ListFeed": 1})
    assert upstreams.calls.log == [("ListFeed", ["", "reactions"])]
    upstreams.calls.clear()
    await run(
        upstreams,
        """query($no: Boolean!) { feed(first: 20) { nodes { id
          author @include(if: $no) { handle } comments(first: 3) @skip(if: true) { nodes { id } }
        } } }""",
        no=False,
    )
    assert upstreams.calls.counts() == Counter({"ListFeed": 1})


async def test_two_comment_selections_with_different_arguments_get_their_own_pages() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=3, comments=5)
    query = """query($id: ID!) { post(id: $id) {
      a: comments(first: 1) { nodes { id } pageInfo { hasNextPage } }
      b: comments(first: 3) { nodes { id author { handle } } } } }"""
    data = await run(upstreams, query, id="pst_002")
    assert [c["id"] for c in data["post"]["a"]["nodes"]] == ["cmt_002_00"]
    assert [c["id"] for c in data["post"]["b"]["nodes"]] == [f"cmt_002_0{i}" for i in range(3)]
    ((_, asked),) = [c for c in upstreams.calls.log if c[0] == "BatchGetFeedCards"]
    assert sorted(map(str, asked)) == sorted(
        ["pst_002", str(("page", 1, "")), str(("page", 3, ""))]
    )
    ((_, asked),) = [c for c in upstreams.calls.log if c[0] == "BatchDescribeAliases"]
    assert sorted(asked) == [f"als_c002_0{i}" for i in range(3)]


async def test_anonymity_down_nulls_the_authors_and_the_rest_arrives() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=3, comments=2)
    upstreams.anonymity.down = True
    query = """{ feed(first: 3) { nodes { id title author { handle }
      comments(first: 2) { nodes { body author { handle } } } } } }"""
    result = await SCHEMA.execute(query, context_value=context(upstreams, reader()))
    assert result.data is not None and result.errors is not None
    nodes = result.data["feed"]["nodes"]
    assert [n["title"] for n in nodes] == ["Post 0", "Post 1", "Post 2"]
    assert all(n["author"] is None for n in nodes)
    assert all(c["body"] and c["author"] is None for n in nodes for c in n["comments"]["nodes"])
    assert {e.extensions["code"] for e in result.errors if e.extensions} == {"UNAVAILABLE"}
    assert {tuple(e.path or [])[-1] for e in result.errors} == {"author"}
    assert upstreams.calls.counts()["BatchDescribeAliases"] == 1


async def test_card_parts_are_asked_for_only_when_selected_and_pages_keep_their_arguments() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=3, comments=5)
    query = """query($id: ID!) { post(id: $id) { commentCount
      a: comments(first: 1) { nodes { id } }
      b: comments(first: 3, after: "cmt_002_00") { nodes { id } } } }"""
    data = await run(upstreams, query, id="pst_002")
    assert data["post"]["commentCount"] == 5
    assert [c["id"] for c in data["post"]["a"]["nodes"]] == ["cmt_002_00"]
    assert len(data["post"]["b"]["nodes"]) == 3
    assert upstreams.calls.counts() == Counter({"BatchGetPosts": 1, "BatchGetFeedCards": 1})
    ((_, asked),) = [c for c in upstreams.calls.log if c[0] == "BatchGetFeedCards"]
    assert sorted(map(str, asked)) == sorted(
        ["pst_002", "counts", str(("page", 1, "")), str(("page", 3, "cmt_002_00"))]
    )


async def test_content_cards_down_fails_only_the_fields_that_read_them() -> None:
    """As when one single batch RPC failed: the card fields raise UNAVAILABLE (non-null ones
    null their parent by the schema's rule), nothing else errs, nothing is asked twice."""
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=3, comments=2)
    upstreams.content.cards_down = True
    query = """{ post(id: "pst_001") { id title author { handle } commentCount
      poll { totalVotes } } }"""
    result = await SCHEMA.execute(query, context_value=context(upstreams, reader()))
    assert result.errors is not None and result.data is not None
    assert result.data["post"] is None or result.data["post"]["author"]["handle"]
    assert {e.extensions["code"] for e in result.errors if e.extensions} == {"UNAVAILABLE"}
    assert {tuple(e.path or [])[-1] for e in result.errors} <= {"commentCount", "poll"}
    assert upstreams.calls.counts()["BatchGetFeedCards"] == 1
    assert upstreams.calls.counts()["BatchDescribeAliases"] == 1


async def test_a_page_too_big_to_carry_its_cards_asks_for_them_apart() -> None:
    """ListFeed carries at most 100 comment pages; past that the cards come from
    BatchGetFeedCards, split at its limits, and the page still shows everything."""
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=40, comments=3)
    query = """{ feed(first: 40) { nodes { id commentCount a: comments(first: 1) { nodes { id } }
      b: comments(first: 2) { nodes { id } } c: comments(first: 3) { nodes { id } } } } }"""
    data = await run(upstreams, query)
    nodes = data["feed"]["nodes"]
    assert len(nodes) == 40 and all(n["commentCount"] == 3 for n in nodes)
    assert [len(n[k]["nodes"]) for n in nodes[:1] for k in "abc"] == [1, 2, 3]
    assert upstreams.calls.log[0] == ("ListFeed", [""])
    cards = [keys for name, keys in upstreams.calls.log if name == "BatchGetFeedCards"]
    assert [len([k for k in keys if str(k).startswith("pst_")]) for keys in cards] == [33, 7]


async def test_post_entities_share_one_call_per_rpc() -> None:
    """Federation `_entities` resolves each Post reference with its own look-ahead fetch;
    fetches made in the same turn of the event loop still share one call per RPC."""
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=5, comments=3)
    refs = ", ".join(f'{{__typename: "Post", id: "pst_00{i}"}}' for i in range(5))
    query = f"""{{ _entities(representations: [{refs}]) {{ ... on Post {{ id commentCount
      viewerIsAuthor author {{ handle isViewer }} community {{ name }}
      reactions {{ viewerReaction }} poll {{ totalVotes viewerHasVoted }}
      comments(first: 3) {{ nodes {{ author {{ handle }} }} }} }} }} }}"""
    data = await run(upstreams, query)
    assert [e["id"] for e in data["_entities"]] == [f"pst_00{i}" for i in range(5)]
    assert data["_entities"][0]["viewerIsAuthor"] and data["_entities"][0]["author"]["isViewer"]
    assert upstreams.calls.counts() == POST_PAGE_CALLS
    ((_, described),) = [c for c in upstreams.calls.log if c[0] == "BatchDescribeAliases"]
    assert len(described) == 5 + 15


@dataclasses.dataclass
class PerViewerAnonymity(FakeAnonymity):
    """Ownership and thread aliases answered per asking user id: usr_a owns the first post's
    alias, usr_b the second's; `asked` records the user id of each viewer call."""

    asked: list[str] = dataclasses.field(default_factory=list)

    async def viewer_aliases(
        self, user_id: str, scope_ids: list[str], alias_ids: list[str], metadata: Any
    ) -> tuple[dict[str, str], set[str]]:
        self.calls.record("BatchGetThreadAliases", [*scope_ids, *alias_ids])
        self.asked.append(user_id)
        # The token forwarded must be the asking viewer's own.
        assert ("authorization", f"Bearer {user_id}-token") in metadata
        mine = {"usr_a": "als_p000", "usr_b": "als_p001"}[user_id]
        return {}, {a for a in alias_ids if a == mine}


async def test_two_viewers_in_one_tick_never_share_a_viewer_call() -> None:
    """Batch calls merge what one request asks in a turn of the event loop (tick_batch.py),
    never what two requests ask: each viewer's ownership is asked with their own user id and
    token, and answered to them only, however their requests interleave."""
    upstreams = FakeUpstreams.seeded(SharedCaches.from_settings(GatewaySettings()))
    anonymity = upstreams.anonymity = PerViewerAnonymity(upstreams.calls)
    results = await asyncio.gather(
        *(
            SCHEMA.execute(FEED, context_value=context(upstreams, reader(user)))
            for user in ("usr_a", "usr_b", "usr_a", "usr_b")
        )
    )
    assert sorted(anonymity.asked) == ["usr_a", "usr_a", "usr_b", "usr_b"]
    for user, result in zip(("usr_a", "usr_b", "usr_a", "usr_b"), results, strict=True):
        assert result.errors is None and result.data is not None, result.errors
        authored = {
            node["id"]
            for node in result.data["feed"]["nodes"]
            if node["viewerIsAuthor"] or node["author"]["isViewer"]
        }
        assert authored == {"pst_000" if user == "usr_a" else "pst_001"}, user
