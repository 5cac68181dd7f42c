"""Traces stop at the privacy line in anonymity itself: the alias events it makes from one of
identity's person-keyed events share no trace id with it, nor with each other (finding 4)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from anonymity_harness import anonymity_settings, identity_event, running_anonymity
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.events.v1 import identity_events_pb2 as iev
from plumbing.events.envelope import MalformedEvent
from plumbing.events.topics import ANONYMITY_ALIASES
from services.identity.app import Identity


@pytest.fixture
def anonymity_database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'anonymity.db'}"


@pytest.fixture
def recording() -> Iterator[None]:
    """Real trace ids: a no-op tracer would hide a shared one."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
        propagate.set_global_textmap(TraceContextTextMapPropagator())
    processor = SimpleSpanProcessor(InMemorySpanExporter())
    provider.add_span_processor(processor)
    yield
    processor.shutdown()


async def test_alias_events_of_a_suspension_start_their_own_traces(
    anonymity_database_url: str, data_dir: Path, identity_server: Identity, recording: None
) -> None:
    settings = anonymity_settings(anonymity_database_url, data_dir, identity_server)
    async with running_anonymity(settings, identity_server) as stack:
        doctor = await stack.physician()
        thread = await stack.scope(doctor)
        aliases = {
            (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id,
            (await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, thread)).alias_id,
        }
        with trace.get_tracer("test").start_as_current_span("admin suspends a physician"):
            person_event = identity_event(
                iev.PhysicianSuspended(user_id=doctor.user_id), doctor.user_id
            )
        assert person_event.traceparent
        person_trace = person_event.traceparent.split("-")[1]
        await stack.bus.publish([person_event])

        subscription = await stack.bus.subscribe(
            group=f"reader-{uuid.uuid4().hex[:8]}", topics=[ANONYMITY_ALIASES]
        )
        traces: dict[str, str | None] = {}
        try:
            async with asyncio.timeout(30):
                while set(traces) != aliases:
                    for record in await subscription.fetch(max_records=100, wait=0.5):
                        if record.event is not None and record.event.key in aliases:
                            parent = record.event.traceparent
                            traces[record.event.key] = parent.split("-")[1] if parent else None
        except (TimeoutError, MalformedEvent):
            pass
        finally:
            await subscription.close()
    assert traces, "the suspension produced no alias event to check"
    assert person_trace not in traces.values(), "an alias event continues the person's trace"
    present = [t for t in traces.values() if t]
    assert len(set(present)) == len(present), "two aliases of one person share a trace id"
