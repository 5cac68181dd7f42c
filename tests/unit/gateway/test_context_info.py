"""The one `Info` alias: strawberry sees a resolver's `info` through it, typed to our context."""

from __future__ import annotations

import strawberry

from gateway.context import Info


@strawberry.type
class Query:
    @strawberry.field
    def seen(self, info: Info) -> str:
        return str(info.context)


async def test_a_resolver_annotated_with_the_alias_gets_the_context() -> None:
    schema = strawberry.Schema(query=Query)
    assert "info" not in schema.as_str()  # not mistaken for a GraphQL argument
    result = await schema.execute("{ seen }", context_value="the context")
    assert result.errors is None
    assert result.data == {"seen": "the context"}
