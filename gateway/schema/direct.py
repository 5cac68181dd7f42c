"""graphql-core calls the look-ahead types' field methods itself, past strawberry's wrapper.

A post made by the look-ahead fetch (gateway/schema/prefetch.py) answers `community`,
`author`, `commentCount`, `viewerIsAuthor`, … with plain values, but each is still a method
(made elsewhere, the same post loads for itself). Strawberry wraps every method field in
argument conversion, an Info object and an extension chain: ~360 calls on a feed page, a
sixth of the gateway's CPU for it. These methods take only `info` and scalar arguments named
alike in GraphQL and Python, have no field extensions or permissions, and are not async, so
the wrapper changes nothing for them: each is called straight, with an Info of its own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, cast

import strawberry
from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo
from strawberry.types.base import StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.field import StrawberryField

#: The types the look-ahead fetch makes (and only they: elsewhere the wrapper stays).
TYPES = frozenset({"Post", "Comment", "Author", "Community"})
_SCALARS = (int, str, bool, float, strawberry.ID)


def _scalar(annotation: object) -> bool:
    if isinstance(annotation, StrawberryOptional):
        annotation = annotation.of_type
    return annotation in _SCALARS


def _direct(schema: strawberry.Schema, field: StrawberryField) -> Callable[..., Any] | None:
    """The straight resolver for `field`, or None when the wrapper does something for it."""
    resolver = field.base_resolver
    if resolver is None or field.extensions or field.permission_classes:
        return None
    method = cast(Callable[..., Any], resolver.wrapped_func)
    if inspect.iscoroutinefunction(method):
        return None
    names = schema.config.name_converter
    if any(
        not _scalar(a.type) or names.get_graphql_name(a) != a.python_name for a in field.arguments
    ):
        return None
    wants_info = "info" in inspect.signature(method).parameters
    make_info: Callable[..., Any] = schema.config.info_class

    def resolve(source: Any, info: GraphQLResolveInfo[Any], **kwargs: Any) -> Any:
        if wants_info:
            return method(source, make_info(_raw_info=info, _field=field), **kwargs)
        return method(source, **kwargs)

    resolve._direct_method = method  # type: ignore[attr-defined]  # see direct_method
    return resolve


def direct_method(field: GraphQLField) -> Callable[..., Any] | None:
    """The method a rewired `field` calls straight (None when it is not rewired)."""
    method: Callable[..., Any] | None = getattr(field.resolve, "_direct_method", None)
    return method


def call_methods_directly(schema: strawberry.Schema) -> list[str]:
    """Rewires the look-ahead types' eligible method fields; returns `Type.field` of each."""
    rewired: list[str] = []
    for name in sorted(TYPES):
        definition = schema.get_type_by_name(name)
        compiled = schema._schema.type_map.get(name)
        if not isinstance(definition, StrawberryObjectDefinition) or not isinstance(
            compiled, GraphQLObjectType
        ):
            continue
        for field in definition.fields:
            resolve = _direct(schema, field)
            graphql_name = schema.config.name_converter.get_graphql_name(field)
            if resolve is not None and graphql_name in compiled.fields:
                compiled.fields[graphql_name].resolve = resolve
                rewired.append(f"{name}.{graphql_name}")
    return rewired
