"""One span per GraphQL operation, with its name and type only: no query text, no arguments."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from opentelemetry import propagate, trace
from strawberry.extensions import SchemaExtension

#: Every attribute this extension sets; the list in the README must match.
SPAN_ATTRIBUTES = ("graphql.operation.name", "graphql.operation.type")

_tracer = trace.get_tracer("consilium.gateway")


class OperationSpan(SchemaExtension):
    """Strawberry's own OpenTelemetry extension records the query text, where literal ids and
    search terms would leak into traces; this one records only what identifies the operation."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        # Continue the caller's trace (W3C `traceparent` on the HTTP request): the trace id of
        # every audit event this operation causes is then the one the client sees (A3).
        request = getattr(context.context, "request", None)
        parent = propagate.extract(dict(request.headers)) if request is not None else None
        with _tracer.start_as_current_span(
            "graphql.operation", context=parent, kind=trace.SpanKind.SERVER
        ) as span:
            yield
            if context.operation_name:
                span.set_attribute("graphql.operation.name", context.operation_name[:100])
            # A document that did not parse has no operation type.
            with contextlib.suppress(RuntimeError):
                span.set_attribute("graphql.operation.type", context.operation_type.value)
