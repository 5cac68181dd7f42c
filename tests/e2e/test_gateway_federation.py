"""Federation entity lookups (`_entities`) over the running system, batched through the loaders."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.system import System, run_system

from gateway.clients import anonymity, base, content, identity

CREATE = """mutation($input: CreatePostInput!) { createPost(input: $input) {
  id title author { aliasId handle } } }"""
ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  __typename
  ... on Post { id title author { aliasId handle } }
  ... on Author { aliasId handle }
} }"""
UNKNOWN_POST = "pst_aaaaaaaaaaaaaaaaaaaaaaaaaa"
UNKNOWN_ALIAS = "als_aaaaaaaaaaaaaaaaaaaaaaaaaa"


class UpstreamCalls:
    """Records the gRPC method of every upstream call the gateway makes, in order."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.requests: dict[str, list[Any]] = {}

    def count(self, method: str) -> int:
        return Counter(self.methods)[method]

    def clear(self) -> None:
        self.methods.clear()
        self.requests.clear()


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    """The system without the gateway's persona cache: these tests count the batched calls
    of the loaders, which a warm cache (gateway/caches.py) would spare."""
    async with run_system(tmp_path / "data", persona_cache_max_entries=0) as running:
        yield running


@pytest.fixture
def upstream_calls(monkeypatch: pytest.MonkeyPatch) -> UpstreamCalls:
    """Wraps `invoke`, the one door of every gateway client, where each client module bound it."""
    calls = UpstreamCalls()
    real = base.invoke

    async def recording(
        method: Callable[..., Awaitable[Any]], request: Any, metadata: Any = None
    ) -> Any:
        path = getattr(method, "_method", b"?/unknown")
        name = (path.decode() if isinstance(path, bytes) else str(path)).rsplit("/", 1)[-1]
        calls.methods.append(name)
        calls.requests.setdefault(name, []).append(request)
        return await real(method, request, metadata)

    for module in (base, content, anonymity, identity):
        monkeypatch.setattr(module, "invoke", recording)
    return calls


def post_input(title: str, visibility: str) -> dict[str, Any]:
    return {
        "input": {
            "kind": "DISCUSSION",
            "community": "lounge-stories",
            "title": title,
            "body": "Federation test post.",
            "visibility": visibility,
        }
    }


async def create_posts(system: System, token: str, titles: list[str]) -> list[dict[str, Any]]:
    # ANONYMOUS: every post gets its own alias, so authors differ from post to post.
    created = []
    for title in titles:
        body = await system.graphql(CREATE, post_input(title, "ANONYMOUS"), token=token)
        created.append(body["data"]["createPost"])
    return created


def post_ref(post_id: str) -> dict[str, str]:
    return {"__typename": "Post", "id": post_id}


def author_ref(alias_id: str) -> dict[str, str]:
    return {"__typename": "Author", "aliasId": alias_id}


async def entities(
    system: System, representations: list[dict[str, str]], token: str | None = None
) -> list[dict[str, Any] | None]:
    # Entities are content: a router forwards the client's token, and only physicians read.
    body = await system.graphql(
        ENTITIES, {"r": representations}, token=token or await system.reader()
    )
    found: list[dict[str, Any] | None] = body["data"]["_entities"]
    assert len(found) == len(representations), "one entry per representation"
    return found


async def test_entities_come_back_in_order_with_null_for_unknown_posts(system: System) -> None:
    _, token = await system.account()
    first, second = await create_posts(system, token, ["Entity one", "Entity two"])
    representations = [
        post_ref(second["id"]),
        author_ref(first["author"]["aliasId"]),
        post_ref(UNKNOWN_POST),
        post_ref(first["id"]),
        author_ref(second["author"]["aliasId"]),
    ]

    found = await entities(system, representations, token=token)

    assert found == [
        {"__typename": "Post", **second},
        {"__typename": "Author", **first["author"]},
        None,
        {"__typename": "Post", **first},
        {"__typename": "Author", **second["author"]},
    ]


async def test_unknown_author_is_the_former_member_placeholder(system: System) -> None:
    # Same as Post.author for an alias anonymity no longer describes: shown, nothing disclosed.
    found = await entities(system, [author_ref(UNKNOWN_ALIAS)])

    assert found == [{"__typename": "Author", "aliasId": UNKNOWN_ALIAS, "handle": "Former member"}]


async def test_five_post_references_cost_one_batched_call_per_upstream_rpc(
    system: System, upstream_calls: UpstreamCalls
) -> None:
    _, token = await system.account()
    posts = await create_posts(system, token, [f"Batched {n}" for n in range(4)])
    representations = [post_ref(p["id"]) for p in posts] + [post_ref(UNKNOWN_POST)]
    upstream_calls.clear()

    found = await entities(system, representations, token=token)

    assert [p and p["id"] for p in found] == [p["id"] for p in posts] + [None]
    assert upstream_calls.count("BatchGetPosts") == 1, upstream_calls.methods
    assert upstream_calls.count("GetPost") == 0, upstream_calls.methods
    (request,) = upstream_calls.requests["BatchGetPosts"]
    assert sorted(request.post_ids) == sorted(r["id"] for r in representations)
    assert upstream_calls.count("BatchDescribeAliases") == 1, "post authors load in one batch"
    (describe,) = upstream_calls.requests["BatchDescribeAliases"]
    assert sorted(describe.alias_ids) == sorted(p["author"]["aliasId"] for p in posts)


async def test_author_references_cost_one_batched_call(
    system: System, upstream_calls: UpstreamCalls
) -> None:
    _, token = await system.account()
    posts = await create_posts(system, token, ["Alias a", "Alias b", "Alias c"])
    aliases = [p["author"]["aliasId"] for p in posts]
    representations = [author_ref(a) for a in [*aliases, aliases[0], UNKNOWN_ALIAS]]
    upstream_calls.clear()

    found = await entities(system, representations, token=token)

    assert [a and a["aliasId"] for a in found] == [r["aliasId"] for r in representations]
    assert upstream_calls.methods == ["BatchDescribeAliases"]
    (request,) = upstream_calls.requests["BatchDescribeAliases"]
    assert sorted(request.alias_ids) == sorted({*aliases, UNKNOWN_ALIAS}), "each alias asked once"


async def test_hidden_posts_are_null_as_entities_like_in_the_post_query(system: System) -> None:
    # Content returns hidden posts on gets (threads keep their shape); readers must not see them.
    _, author = await system.account()
    (post,) = await create_posts(system, author, ["Soon hidden"])
    # Hidden as content's consumer of AliasSuspended hides it (the gateway never hides).
    async with system.content.store.transaction() as repo:
        await repo.set_aliases_hidden([post["author"]["aliasId"]], True, datetime.now(UTC))

    direct = await system.graphql(
        "query($id: ID!) { post(id: $id) { id } }", {"id": post["id"]}, token=author
    )
    found = await entities(system, [post_ref(post["id"])])

    assert direct["data"]["post"] is None
    assert found == [None]
