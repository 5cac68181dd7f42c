"""The trace boundary: a new trace per request, the client's traceparent only as a link, no
baggage or trace state in the context whatever propagators the process configured."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry import baggage, propagate, trace
from opentelemetry import context as otel_context
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway.tracing import TRACERESPONSE, TraceBoundary, client_link, own_trace, traceresponse

CANARY = "unit.canary@example.org"


@pytest.fixture
def leaky_propagator() -> Iterator[None]:
    """What OTEL_PROPAGATORS' default installs: trace context AND baggage."""
    before = propagate.get_global_textmap()
    propagate.set_global_textmap(
        CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])
    )
    yield
    propagate.set_global_textmap(before)


def client_headers(trace_id: str) -> dict[str, str]:
    return {
        "traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01",
        "tracestate": f"vendor={CANARY}",
        "baggage": f"email={CANARY}",
    }


def test_the_client_trace_is_a_link_and_nothing_else(leaky_propagator: None) -> None:
    client_trace = uuid.uuid4().hex
    # Even a context that already holds the caller's baggage (an instrumentation that
    # extracted it) does not leak into the gateway's trace.
    outer = otel_context.attach(baggage.set_baggage("email", CANARY))
    try:
        with own_trace("test", client_headers(client_trace)) as span:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            own = span.get_span_context()
            assert baggage.get_all() == {}
    finally:
        otel_context.detach(outer)
    assert set(carrier) == {"traceparent"}, carrier
    assert CANARY not in repr(carrier)
    assert carrier["traceparent"].split("-")[1] == f"{own.trace_id:032x}" != client_trace


def test_only_a_valid_traceparent_becomes_a_link() -> None:
    trace_id = uuid.uuid4().hex
    (link,) = client_link(client_headers(trace_id))
    assert f"{link.context.trace_id:032x}" == trace_id
    assert not link.context.trace_state, "the link keeps no trace state"
    assert client_link({"traceparent": "00-garbage-01"}) == []
    assert client_link({"traceparent": f"00-{'0' * 32}-{'1' * 16}-01"}) == []
    assert client_link({}) == []


def test_traceresponse_is_trace_context_level_2() -> None:
    with own_trace("test", {}) as span:
        header = traceresponse(span)
    version, trace_id, span_id, flags = header.split("-")
    ctx = span.get_span_context()
    assert (version, trace_id, span_id) == ("00", f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}")
    assert len(flags) == 2


async def test_the_middleware_names_the_trace_the_app_ran_in(leaky_propagator: None) -> None:
    seen: list[dict[str, str]] = []

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        seen.append(carrier)
        await JSONResponse({})(scope, receive, send)

    app = Starlette(routes=[Route("/graphql", TraceBoundary(endpoint))])
    client_trace = uuid.uuid4().hex
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        first = await client.get("/graphql", headers=client_headers(client_trace))
        second = await client.get("/graphql", headers=client_headers(client_trace))
    ids = [r.headers[TRACERESPONSE].split("-")[1] for r in (first, second)]
    assert [c["traceparent"].split("-")[1] for c in seen] == ids
    assert len(set(ids)) == 2 and client_trace not in ids
    assert all(set(c) == {"traceparent"} for c in seen), seen


def test_a_fresh_trace_even_without_a_tracing_sdk() -> None:
    tracer_provider = trace.NoOpTracerProvider()
    tracer = tracer_provider.get_tracer("x")
    assert not tracer.start_span("probe").get_span_context().is_valid
    with own_trace("test", {}) as span:
        assert span.get_span_context().is_valid
