"""Plain leaf fields skip graphql-core's per-field detour (gateway/schema/leaves.py), and the
answer is the same to the byte as the whole way round: values, nulls, errors and their paths."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from graphql import GraphQLResolveInfo
from strawberry import Info
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.schema import leaves
from gateway.schema.build import build_schema
from gateway.schema.leaves import LeafFields
from gateway.settings import GatewaySettings


@strawberry.enum
class Kind(enum.Enum):
    CASE = "case"
    STORY = "story"


@strawberry.type
class Note:
    id: strawberry.ID
    body: str
    kind: Kind
    at: datetime
    score: float
    votes: int | None
    broken_body: str  # set to None: a non-null field without a value
    bad_count: int  # set to a string: serialize refuses it

    @strawberry.field
    def shout(self) -> str:
        return self.body.upper()

    @property
    def exploding(self) -> str:
        raise RuntimeError("boom")


def _note(n: int) -> Note:
    return Note(
        id=strawberry.ID(f"n{n}"),
        body=f"body {n}",
        kind=Kind.CASE if n % 2 else Kind.STORY,
        at=datetime(2026, 1, n + 1, 12, 30, tzinfo=UTC),
        score=n / 3,
        votes=None if n % 2 else n,
        broken_body=None,  # type: ignore[arg-type]
        bad_count="many",  # type: ignore[arg-type]
    )


@strawberry.type
class Query:
    @strawberry.field
    def notes(self) -> list[Note]:
        return [_note(n) for n in range(3)]


QUERIES = [
    "{ notes { id body kind at score votes shout } }",
    "{ notes { a: id b: body, id @skip(if: true) ...on Note { kind } } }",
    "query($s: Boolean!) { notes { id votes @include(if: $s) } }",
    "{ notes { id brokenBody } }",  # null where non-null: the error and its path
    "{ notes { id badCount } }",  # a value serialize refuses
    "{ notes { __typename id } }",
]


def _schema(context_class: type[Any]) -> strawberry.Schema:
    schema = strawberry.Schema(query=Query, execution_context_class=context_class)
    leaves.install(schema)
    return schema


def _answer(result: Any) -> str:
    errors = [
        {"message": e.message, "path": e.path, "locations": [tuple(x) for x in e.locations or []]}
        for e in result.errors or []
    ]
    return json.dumps({"data": result.data, "errors": errors}, default=str, sort_keys=True)


@pytest.mark.parametrize("query", QUERIES)
async def test_the_answer_is_the_same_as_the_whole_way_round(query: str) -> None:
    variables = {"s": True}
    fast = await _schema(LeafFields).execute(query, variable_values=variables)
    slow = await _schema(StrawberryGraphQLCoreExecutionContext).execute(
        query, variable_values=variables
    )
    assert _answer(fast) == _answer(slow)


def test_only_plain_leaf_fields_take_the_short_way() -> None:
    plans = leaves.leaf_plans(_schema(LeafFields))
    assert set(plans["Note"]) == {
        "id",
        "body",
        "kind",
        "at",
        "score",
        "votes",
        "brokenBody",
        "badCount",
    }  # not `shout` (a resolver), nor `notes` (a list of objects)


async def test_the_short_way_skips_the_resolver_wrappers() -> None:
    calls: list[str] = []

    class Counting(LeafFields):
        def build_resolve_info(self, *args: Any, **kwargs: Any) -> GraphQLResolveInfo:
            info = super().build_resolve_info(*args, **kwargs)
            calls.append(info.field_name)
            return info

    result = await _schema(Counting).execute("{ notes { id body kind shout } }")
    assert result.errors is None
    assert calls == ["notes"] + ["shout"] * 3  # the leaves built no resolve info


async def test_a_resolve_hook_still_sees_every_field() -> None:
    seen: list[str] = []

    class Watch(SchemaExtension):
        def resolve(
            self, _next: Any, root: Any, info: GraphQLResolveInfo, *a: Any, **k: Any
        ) -> Any:
            seen.append(info.field_name)
            return _next(root, info, *a, **k)

    schema = strawberry.Schema(query=Query, execution_context_class=LeafFields, extensions=[Watch])
    leaves.install(schema)
    result = await schema.execute("{ notes { id body } }")
    assert result.errors is None
    assert seen.count("id") == 3 and seen.count("body") == 3


def test_the_gateway_reads_its_feed_leaves_the_short_way() -> None:
    schema = build_schema(GatewaySettings())
    plans = leaves._PLANS[schema._schema]
    assert {"id", "body", "title", "createdAt", "kind"} <= set(plans["Post"])
    assert {"id", "body", "createdAt", "deleted"} <= set(plans["Comment"])
    assert issubclass(schema.execution_context_class, LeafFields)


class Deny(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return False


class Masked(FieldExtension):
    """A field-level hiding rule: whatever the attribute holds, readers get a mask."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        return "hidden"


@strawberry.type
class Guarded:
    id: strawberry.ID
    secret: str = strawberry.field(permission_classes=[Deny])
    masked: str = strawberry.field(extensions=[Masked()])
    maybe: str | None = strawberry.field(default=None, permission_classes=[Deny])


@strawberry.type
class GuardedQuery:
    @strawberry.field
    def guarded(self) -> list[Guarded]:
        return [Guarded(id=strawberry.ID("g1"), secret="s3cret", masked="raw", maybe="s3cret")]


async def test_a_guarded_leaf_never_takes_the_short_way() -> None:
    """A permission or a field extension on a plain attribute is a check the short way would
    skip: such fields are never planned, and answer as the whole way round does."""

    def schema(context_class: type[Any]) -> strawberry.Schema:
        built = strawberry.Schema(query=GuardedQuery, execution_context_class=context_class)
        leaves.install(built)
        return built

    assert set(leaves.leaf_plans(schema(LeafFields))["Guarded"]) == {"id"}
    for query in ("{ guarded { id secret } }", "{ guarded { id masked maybe } }"):
        fast = await schema(LeafFields).execute(query)
        slow = await schema(StrawberryGraphQLCoreExecutionContext).execute(query)
        assert _answer(fast) == _answer(slow)
        assert "s3cret" not in _answer(fast) and "raw" not in _answer(fast)
