"""The look-ahead types' method fields are called straight by graphql-core, and only those
the strawberry wrapper does nothing for (what they return is tested in test_batching.py)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.schema.build import build_schema
from gateway.schema.direct import call_methods_directly
from gateway.settings import GatewaySettings


def test_the_feed_cards_fields_are_called_straight() -> None:
    rewired = set(call_methods_directly(build_schema(GatewaySettings())))
    assert {
        "Post.community",
        "Post.author",
        "Post.viewerIsAuthor",
        "Post.commentCount",
        "Post.comments",
        "Post.reactions",
        "Post.poll",
        "Post.case",
        "Comment.author",
        "Comment.viewerIsAuthor",
        "Author.isViewer",
        "Community.viewerFollows",
    } <= rewired
    assert all(name.split(".")[0] in {"Post", "Comment", "Author", "Community"} for name in rewired)


@strawberry.input
class Range:
    first: int


@strawberry.type
class Post:
    @strawberry.field
    async def later(self) -> int:
        return 1

    @strawberry.field
    def ranged(self, range: Range) -> int:
        return range.first  # strawberry must turn the dict into a Range

    @strawberry.field
    def plain(self, info: Info, first: int = 2) -> int:
        assert info.field_name == "plain"
        return first


@strawberry.type
class Query:
    @strawberry.field
    def post(self) -> Post:
        return Post()


async def test_async_methods_and_converted_arguments_keep_the_wrapper() -> None:
    schema = strawberry.Schema(query=Query)
    assert call_methods_directly(schema) == ["Post.plain"]
    result = await schema.execute("{ post { later ranged(range: {first: 3}) plain(first: 4) } }")
    assert result.errors is None
    assert result.data == {"post": {"later": 1, "ranged": 3, "plain": 4}}
