"""OpenTelemetry from the standard OTEL_* variables; no exporter configured, no export."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_tracer = trace.get_tracer("consilium.telemetry")


def _exporter_configured() -> bool:
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(
        exporter
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def setup_telemetry(
    component: str, *, extra_processors: tuple[SpanProcessor, ...] = ()
) -> TracerProvider:
    """Installs a tracer provider named `OTEL_SERVICE_NAME` (default: the component).

    Propagation is W3C trace context only. Baggage is deliberately not propagated: it
    crosses every hop unfiltered, and a user id in baggage would reach the content service.
    """
    name = os.environ.get("OTEL_SERVICE_NAME") or f"consilium-{component}"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        # Spans as JSON on stdout: for debugging, and for the privacy tests that scan them.
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    elif _exporter_configured():
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    for processor in extra_processors:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    propagate.set_global_textmap(TraceContextTextMapPropagator())
    return provider


@contextlib.contextmanager
def detached_trace(name: str) -> Iterator[None]:
    """Runs the block in a new root trace with no parent and no link to the current one.

    For work that crosses the privacy line inside one request: a moderator acts on an alias
    (alias-keyed, in the request's trace), and the service then asks identity to suspend the
    person behind it (person-keyed). If both carried one trace id, a reader of the topics
    would join the alias to the user id through it (A3, docs/THREAT_MODEL.md).
    """
    with _tracer.start_as_current_span(name, context=Context(), kind=trace.SpanKind.INTERNAL):
        yield
