"""Real tracing in the test process (every in-process component shares it), spans kept in memory.

A no-op tracer provider propagates no trace ids at all, which would hide exactly the leaks the
privacy tests look for (a trace id joining two aliases, a person to an alias).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator


@contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """Installs a recording provider once per process; this block's spans land in the exporter.

    Later blocks' spans are dropped from it (the processor is shut down on exit)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
        propagate.set_global_textmap(TraceContextTextMapPropagator())
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    try:
        yield exporter
    finally:
        processor.shutdown()
