"""One span per GraphQL operation, with its name and type only: no query text, no arguments."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from opentelemetry import trace
from strawberry.extensions import SchemaExtension

from gateway.tracing import in_boundary, own_trace

#: Every attribute this extension sets; the list in the README must match.
SPAN_ATTRIBUTES = ("graphql.operation.name", "graphql.operation.type")

_tracer = trace.get_tracer("consilium.gateway")


class OperationSpan(SchemaExtension):
    """Strawberry's own OpenTelemetry extension records the query text, where literal ids and
    search terms would leak into traces; this one records only what identifies the operation.

    Over HTTP the operation is a child of the request's span (gateway/tracing.py started the
    trace). A WebSocket operation has no such request: it starts its own trace, so that the
    operations of one long-lived connection are not joined in one trace either.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.ExitStack() as stack:
            if not in_boundary():
                request = getattr(context.context, "request", None)
                headers = dict(request.headers) if request is not None else {}
                stack.enter_context(own_trace("graphql.connection_operation", headers))
            span = stack.enter_context(
                _tracer.start_as_current_span("graphql.operation", kind=trace.SpanKind.INTERNAL)
            )
            yield
            if context.operation_name:
                span.set_attribute("graphql.operation.name", context.operation_name[:100])
            # A document that did not parse has no operation type.
            with contextlib.suppress(RuntimeError):
                span.set_attribute("graphql.operation.type", context.operation_type.value)
