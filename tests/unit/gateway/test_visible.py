"""The "missing or hidden post" rule: unknown, hidden and deleted posts look alike everywhere."""

from __future__ import annotations

import pytest
from fake_upstreams import FakeUpstreams, context, reader

from gateway.caches import SharedCaches
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings

SCHEMA = build_schema(GatewaySettings())
READ = '{ post(id: "%s") { id title } }'
ENTITY = '{ _entities(representations: [{__typename: "Post", id: "%s"}]) { ... on Post { id } } }'
WRITE = 'mutation { react(postId: "%s", reaction: LIKE) { id } }'


def _upstreams(state: str) -> FakeUpstreams:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=1, comments=0)
    post = upstreams.content.posts_by_id["pst_000"]
    if state == "hidden":
        post.hidden = True
    elif state == "deleted":
        post.deleted = True
    elif state == "missing":
        del upstreams.content.posts_by_id["pst_000"]
    return upstreams


@pytest.mark.parametrize("state", ["hidden", "deleted", "missing"])
async def test_reads_see_null_and_writes_not_found_alike(state: str) -> None:
    upstreams = _upstreams(state)
    for query, root in ((READ, "post"), (ENTITY, "_entities")):
        result = await SCHEMA.execute(query % "pst_000", context_value=context(upstreams, reader()))
        assert result.errors is None, result.errors
        assert result.data is not None
        assert result.data[root] in (None, [None])
    result = await SCHEMA.execute(WRITE % "pst_000", context_value=context(upstreams, reader()))
    assert result.errors is not None
    (error,) = result.errors
    assert error.extensions is not None and error.extensions["code"] == "NOT_FOUND"
    assert error.message == "no such post"


async def test_a_readable_post_is_shown() -> None:
    upstreams = _upstreams("shown")
    result = await SCHEMA.execute(READ % "pst_000", context_value=context(upstreams, reader()))
    assert result.data == {"post": {"id": "pst_000", "title": "Post 0"}}
