"""The trace boundary: every request starts the gateway's own trace; clients only get a link.

A client's `traceparent` names a trace the client chose, and its `tracestate` and `baggage`
are free text that OpenTelemetry would forward to every upstream (an email in `tracestate`
once reached content's gRPC metadata). So nothing of the client's trace context is ever
made current: each HTTP request (and each WebSocket operation) starts a fresh trace from an
empty context, and a valid client `traceparent` becomes a span *link* only. The gateway's
own trace id goes back in a `traceresponse` header (W3C Trace Context Level 2), so a caller
and an auditor know the trace id that the audit events of this request carry (A3).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Mapping
from contextvars import ContextVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRACERESPONSE = "traceresponse"

_tracer = trace.get_tracer("consilium.gateway")
#: Parses `traceparent` alone: its `tracestate` half is never read.
_traceparent = TraceContextTextMapPropagator()
#: Set while an HTTP request runs inside its boundary span (WebSocket operations have none).
_in_boundary: ContextVar[bool] = ContextVar("consilium_trace_boundary", default=False)


def client_link(headers: Mapping[str, str]) -> list[trace.Link]:
    """A link to the client's span when it sent a valid `traceparent`; nothing else is kept."""
    value = headers.get("traceparent")
    if not value:
        return []
    parsed = trace.get_current_span(_traceparent.extract({"traceparent": value}))
    span_context = parsed.get_span_context()
    if not span_context.is_valid:
        return []
    # Rebuilt without the trace state: a link keeps only the ids.
    bare = trace.SpanContext(
        span_context.trace_id,
        span_context.span_id,
        is_remote=True,
        trace_flags=span_context.trace_flags,
    )
    return [trace.Link(bare)]


def _own_span(name: str, links: list[trace.Link]) -> trace.Span:
    """A root span of a new trace. Without a tracing SDK the tracer makes invalid spans; a
    random (non-recording) span context then still gives the request a trace id, so audit
    events and `traceresponse` always agree."""
    span = _tracer.start_span(
        name, context=otel_context.Context(), kind=trace.SpanKind.SERVER, links=links
    )
    if span.get_span_context().is_valid:
        return span
    return trace.NonRecordingSpan(
        trace.SpanContext(
            trace_id=secrets.randbits(128) or 1,
            span_id=secrets.randbits(64) or 1,
            is_remote=False,
            trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
        )
    )


@contextlib.contextmanager
def own_trace(name: str, headers: Mapping[str, str]) -> Iterator[trace.Span]:
    """Runs the block in a new trace, from an EMPTY context: no baggage, no trace state and no
    parent of the caller's survive, whatever propagators the process has configured."""
    span = _own_span(name, client_link(headers))
    token = otel_context.attach(trace.set_span_in_context(span, otel_context.Context()))
    try:
        yield span
    finally:
        otel_context.detach(token)
        span.end()


def in_boundary() -> bool:
    """Whether the current HTTP request already runs in the gateway's own trace."""
    return _in_boundary.get()


def traceresponse(span: trace.Span) -> str:
    """`00-<trace-id>-<span-id>-<flags>`, the W3C Trace Context Level 2 response header."""
    ctx = span.get_span_context()
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


class TraceBoundary:
    """ASGI middleware for HTTP: the request runs in the gateway's own trace, and every
    response (413 and 504 included) names it in `traceresponse`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())
        }
        with own_trace("graphql.request", headers) as span:
            header = traceresponse(span).encode("latin-1")

            async def send_with_trace(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message = {
                        **message,
                        "headers": [*message.get("headers", ()), (b"traceresponse", header)],
                    }
                await send(message)

            flag = _in_boundary.set(True)
            try:
                await self.app(scope, receive, send_with_trace)
            finally:
                _in_boundary.reset(flag)
