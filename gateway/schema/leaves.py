"""Leaf fields read straight off their object, past graphql-core's per-field machinery.

A feed page is about a thousand leaf fields (ids, bodies, times, counts, enum values), nearly
all plain attributes of the ready objects the look-ahead fetch hands over. For each one
graphql-core builds a resolve-info object, calls strawberry's basic-field wrapper (which calls
`getattr`), checks twice whether the result is awaitable and walks `complete_value` to the
scalar's `serialize`: ~8 µs for what is a `getattr` and a `serialize`, a fifth of the
gateway's CPU for a feed.

`LeafFields.execute_fields` does the `getattr` and the `serialize` itself for the fields where
that is all strawberry and graphql-core would do: strawberry "basic" fields (no resolver, no
field extensions, no exception handlers: strawberry itself calls them without an Info) and
the look-ahead types' method fields that take neither `info` nor arguments, of a scalar or
enum type. Anything else, and any value the fast path would not serialize exactly as
graphql-core does (None where the type is non-null, a value serialize rejects, an
exception), goes the whole way round instead, so errors keep their messages and paths.
Directives (`@skip`, `@include`) and aliases are applied before a field is executed, and a
field executor with middleware (a schema extension with a `resolve` hook) is never skipped.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition

from gateway.schema.direct import direct_method


@dataclass(frozen=True, slots=True)
class Leaf:
    """How to read one leaf field: the value from `source`, then the type's serialize."""

    read: Callable[[Any], Any]
    serialize: Callable[[Any], Any]
    nullable: bool


def _leaf_type(type_: Any) -> tuple[GraphQLScalarType | GraphQLEnumType | None, bool]:
    nullable = not isinstance(type_, GraphQLNonNull)
    named = type_ if nullable else type_.of_type
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return named, nullable
    return None, nullable


def _attribute(name: str) -> Callable[[Any], Any]:
    return lambda source: getattr(source, name)


def leaf_plans(schema: strawberry.Schema) -> dict[str, dict[str, Leaf]]:
    """`{object type: {GraphQL field name: Leaf}}` for every field the fast path may take."""
    plans: dict[str, dict[str, Leaf]] = {}
    names = schema.config.name_converter
    for name, compiled in schema._schema.type_map.items():
        definition = schema.get_type_by_name(name)
        if not isinstance(compiled, GraphQLObjectType) or not isinstance(
            definition, StrawberryObjectDefinition
        ):
            continue
        for field in definition.fields:
            graphql_name = names.get_graphql_name(field)
            compiled_field = compiled.fields.get(graphql_name)
            if compiled_field is None:
                continue
            leaf_type, nullable = _leaf_type(compiled_field.type)
            if leaf_type is None:
                continue
            resolve = compiled_field.resolve
            read: Callable[[Any], Any] | None = None
            if (
                field.is_basic_field
                and getattr(resolve, "_is_default", False)
                and getattr(resolve, "__name__", "") == "_get_basic_result"
            ):
                read = _attribute(field.python_name)
            elif (
                (method := direct_method(compiled_field)) is not None
                and not field.arguments
                and "info" not in inspect.signature(method).parameters
            ):
                read = method
            if read is not None:
                plan = Leaf(read=read, serialize=leaf_type.serialize, nullable=nullable)
                plans.setdefault(name, {})[graphql_name] = plan
    return plans


#: The plans of each graphql-core schema, made by `install`.
_PLANS: weakref.WeakKeyDictionary[GraphQLSchema, dict[str, dict[str, Leaf]]] = (
    weakref.WeakKeyDictionary()
)


def install(schema: strawberry.Schema) -> int:
    """Makes the fast path's plans for `schema`; the number of leaf fields it covers."""
    plans = leaf_plans(schema)
    _PLANS[schema._schema] = plans
    return sum(len(fields) for fields in plans.values())


#: What `Leaf.value` returns when the fast path cannot answer for graphql-core.
_MISS: Any = object()


class LeafFields(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, reading plain leaf fields without the detour.

    `execute_fields` is graphql-core's own (3.3), with one step in front of each field: a
    plain leaf is answered on the spot (no Path, no `execute_field`, no awaitable check: a
    serialized scalar is never awaitable); every other field, and a leaf the fast path
    cannot answer exactly as graphql-core would, goes through `execute_field` as before.
    """

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any = None,
    ) -> Any:
        plans = _PLANS.get(self.schema, {}).get(parent_type.name)
        # Strawberry always passes a manager; it wraps resolvers only when it has middleware.
        manager = self.middleware_manager
        if plans is None or (manager is not None and manager.middlewares):
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                leaf = plans.get(field_details_list[0].node.name.value)
                if leaf is not None:
                    value = _value(leaf, source_value)
                    if value is not _MISS:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:  # settle what other fields started: they may fail too
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()


def _value(leaf: Leaf, source: Any) -> Any:
    """The serialized value, or _MISS where graphql-core must answer (and report errors)."""
    try:
        value = leaf.read(source)
        if value is None:
            return None if leaf.nullable else _MISS
        serialized = leaf.serialize(value)
    except Exception:
        return _MISS
    return _MISS if serialized is None or serialized is Undefined else serialized
