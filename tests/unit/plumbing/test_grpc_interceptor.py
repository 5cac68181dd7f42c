"""The server interceptor builds a method's wrapper once, yet each call sees only its own
caller: metadata, admission and (for content) the stripping of metadata are per call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
import pytest
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, StatusCode
from support.tracing import recorded_spans

from plumbing.errors import NotFound, Unauthenticated
from plumbing.grpc.caller import caller_token
from plumbing.grpc.interceptors import ServiceInterceptor

METHOD = "/consilium.test.v1.Probe/Echo"


class Details:
    def __init__(self, metadata: Sequence[tuple[str, str]]) -> None:
        self.method = METHOD
        self.invocation_metadata = tuple(metadata)


class Context:
    def __init__(self, metadata: Sequence[tuple[str, str]]) -> None:
        self._metadata = tuple(metadata)

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def peer(self) -> str:
        return "ipv4:127.0.0.1:50123"

    def code(self) -> Any:
        return grpc.StatusCode.PERMISSION_DENIED

    async def abort_with_status(self, status: Any) -> None:
        raise grpc.aio.AbortError()

    async def abort(self, code: Any, details: str) -> None:
        raise grpc.aio.AbortError()


async def _echo_token(request: object, context: object) -> str | None:
    return caller_token()


HANDLER = grpc.unary_unary_rpc_method_handler(_echo_token)


async def _continuation(details: object) -> Any:
    return HANDLER


class OnlyAlice:
    def __init__(self) -> None:
        self.checked: list[tuple[str, ...]] = []

    def check(self, method: str, metadata: Sequence[tuple[str, str | bytes]] | None) -> object:
        token = dict(metadata or ()).get("authorization", "")
        self.checked.append((method, str(token)))
        if token != "Bearer alice":
            raise Unauthenticated("not alice")
        return token


async def _call(interceptor: ServiceInterceptor, token: str) -> Any:
    metadata = [("authorization", f"Bearer {token}")]
    handler = await interceptor.intercept_service(_continuation, Details(metadata))
    return handler, await handler.unary_unary(None, Context(metadata))


async def test_the_wrapper_is_reused_and_each_call_sees_its_own_caller() -> None:
    interceptor = ServiceInterceptor()
    first, alice = await _call(interceptor, "alice")
    again, bob = await _call(interceptor, "bob")
    assert first is again
    assert (alice, bob) == ("alice", "bob")
    assert caller_token() is None  # nothing left behind after the calls


async def test_content_never_sees_metadata_and_every_call_is_admitted_anew() -> None:
    callers = OnlyAlice()
    interceptor = ServiceInterceptor(keep_metadata=False, callers=callers)
    _, seen = await _call(interceptor, "alice")
    assert seen is None  # admitted, yet the handler sees no metadata
    with pytest.raises(grpc.aio.AbortError):
        await _call(interceptor, "mallory")  # the reused wrapper still checks this call
    assert callers.checked == [(METHOD, "Bearer alice"), (METHOD, "Bearer mallory")]


async def _refused(request: object, context: object) -> None:
    raise Unauthenticated("not you")


async def test_each_call_is_a_server_span_child_of_its_callers_span() -> None:
    with recorded_spans() as exporter:
        with trace.get_tracer("test").start_as_current_span("caller") as caller:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
        metadata = [*carrier.items(), ("authorization", "Bearer alice")]
        interceptor = ServiceInterceptor()
        handler = await interceptor.intercept_service(_continuation, Details(metadata))
        await handler.unary_unary(None, Context(metadata))

        async def refusing(details: object) -> Any:
            return grpc.unary_unary_rpc_method_handler(_refused)

        handler = await ServiceInterceptor().intercept_service(refusing, Details(metadata))
        with pytest.raises(grpc.aio.AbortError):
            await handler.unary_unary(None, Context(metadata))
        spans = [s for s in exporter.get_finished_spans() if s.name == METHOD]
    ok, refused = spans
    for span in spans:
        assert span.kind is SpanKind.SERVER
        assert span.parent is not None
        assert span.parent.span_id == caller.get_span_context().span_id
        assert span.context.trace_id == caller.get_span_context().trace_id
        attributes = dict(span.attributes or {})
        assert attributes["rpc.service"] == "consilium.test.v1.Probe"
        assert attributes["rpc.method"] == "Echo"
        assert attributes["net.peer.ip"] == "127.0.0.1"
        # No metadata value (the caller's token) on the span.
        assert not any("alice" in str(v) for v in attributes.values())
    assert ok.status.status_code is StatusCode.UNSET
    assert dict(ok.attributes or {})["rpc.grpc.status_code"] == 0
    assert refused.status.status_code is StatusCode.ERROR
    assert dict(refused.attributes or {})["rpc.grpc.status_code"] == 16  # UNAUTHENTICATED


CANARY = "usr_canary42 canary@example.org"


async def _fails_with_canary(request: object, context: object) -> None:
    raise NotFound(f"no account {CANARY}")


async def _crashes_with_canary(request: object, context: object) -> None:
    raise RuntimeError(f"bug while reading {CANARY}")


async def test_no_error_text_or_metadata_value_reaches_a_server_span() -> None:
    """An error's message (a refusal or a crash naming a person), a header's value and
    baggage stay off the span: its attributes, status, events and links. (A caller's
    `tracestate` is kept, as W3C asks: the gateway never forwards a client's, gateway/tracing.py.)"""
    metadata = [
        ("authorization", f"Bearer {CANARY}"),
        ("baggage", f"user={CANARY}"),
        ("x-user", CANARY),
    ]
    with recorded_spans() as exporter:
        for behaviour in (_fails_with_canary, _crashes_with_canary):

            async def failing(details: object, behaviour: Any = behaviour) -> Any:
                return grpc.unary_unary_rpc_method_handler(behaviour)

            handler = await ServiceInterceptor().intercept_service(failing, Details(metadata))
            with pytest.raises(grpc.aio.AbortError):
                await handler.unary_unary(None, Context(metadata))
        spans = [s for s in exporter.get_finished_spans() if s.name == METHOD]
    assert len(spans) == 2
    for span in spans:
        assert span.status.status_code is StatusCode.ERROR
        seen = [
            *map(str, (span.attributes or {}).values()),
            str(span.status.description),
            *(f"{e.name} {dict(e.attributes or {})}" for e in span.events),
            *(str(dict(link.attributes or {})) for link in span.links),
        ]
        leaked = [text for text in seen if "canary" in text]
        assert not leaked, leaked
