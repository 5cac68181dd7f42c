"""Counts and times each GraphQL operation by type and root field, and its errors by code.

The operation label is the one root field the operation selects, checked against the schema
(`feed`, `createPost`, ...), or `multiple` when it selects several: never the client's own
operation name, which is free text (a name could be a person's), nor variables or query text.
So the label set is the schema's root fields plus a handful of fixed words, however many
clients or users there are.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, FieldNode, GraphQLSchema, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from plumbing.metrics.instruments import GRAPHQL_DURATION, GRAPHQL_ERRORS, GRAPHQL_REQUESTS

#: `extensions.code` values are set by our code only; anything else counts as OTHER.
_CODE = re.compile(r"[A-Z][A-Z_]{0,39}")
_INTROSPECTION = frozenset({"__schema", "__type"})


class OperationMetrics(SchemaExtension):
    """Listed first, so it sees the result after ShapeErrors gave every error its code."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        try:
            operation_type = context.operation_type.value
        except RuntimeError:  # a document that did not parse has no operation type
            operation_type = "unknown"
        operation = root_field_label(
            context.graphql_document, context.operation_name, context.schema._schema
        )
        result = context.result
        errors = list(getattr(result, "errors", None) or ())
        if not errors:
            outcome = "ok"
        elif getattr(result, "data", None):
            outcome = "partial"
        else:
            outcome = "error"
        GRAPHQL_REQUESTS.labels(operation_type, operation, outcome).inc()
        # A subscription's operation lasts as long as the client listens: not a latency.
        if operation_type != "subscription":
            GRAPHQL_DURATION.labels(operation_type, operation).observe(
                time.perf_counter() - started
            )
        for error in errors:
            GRAPHQL_ERRORS.labels(error_code(error)).inc()


def error_code(error: Any) -> str:
    code = (getattr(error, "extensions", None) or {}).get("code")
    return code if isinstance(code, str) and _CODE.fullmatch(code) else "OTHER"


def root_field_label(
    document: DocumentNode | None, operation_name: str | None, schema: GraphQLSchema
) -> str:
    """The root field the operation selects, if the schema has it; else a fixed word."""
    if document is None:
        return "invalid"
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return "invalid"
    (operation,) = operations
    root = schema.get_root_type(operation.operation)
    names = set()
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return "multiple"  # a fragment at the root: several fields, or one we cannot name
        name = selection.name.value
        if name != "__typename":
            names.add(name)
    if not names:
        return "__typename"
    if len(names) > 1:
        return "multiple"
    (name,) = names
    if name in _INTROSPECTION or (root is not None and name in root.fields):
        return name
    return "unknown"
