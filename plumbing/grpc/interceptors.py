"""Server interceptors: server span, caller token, error mapping and access logging, for every
RPC (health checks and reflection excepted)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeAlias

import grpc
from grpc_status import rpc_status
from opentelemetry import trace

from plumbing.errors import DomainError
from plumbing.grpc.caller import reset_caller_metadata, set_caller_metadata
from plumbing.grpc.errors import to_rpc_status
from plumbing.grpc.server_spans import end_with, method_attributes, start_server_span
from plumbing.logging import redact_names
from plumbing.metrics.instruments import GRPC_DURATION, GRPC_ERRORS, GRPC_REQUESTS
from plumbing.outages import as_unavailable

log = logging.getLogger("consilium.grpc")

# Subscripted only for the type checker: the runtime grpc classes are not generic.
Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"


class CallerCheck(Protocol):
    """Admits a call to `method` by its metadata, or raises a DomainError (refused)."""

    def check(self, method: str, metadata: Sequence[tuple[str, str | bytes]] | None) -> object:
        """Raises Unauthenticated or PermissionDenied to refuse the call."""


_HEALTH_PREFIX = "/grpc.health.v1.Health/"
_REFLECTION_PREFIX = "/grpc.reflection."

#: A call's outcome (a status code name: the domain codes are spelled like gRPC's) as a code.
_STATUS = {code.name: code for code in grpc.StatusCode}


def _trace_id() -> str:
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else "none"


def _classify(exc: BaseException, method: str) -> BaseException:
    """An unreachable database or broker becomes UNAVAILABLE (retryable), logged without
    a traceback: it is an outage, not a bug. Anything else is returned as it is."""
    unavailable = None if isinstance(exc, DomainError) else as_unavailable(exc)
    if unavailable is None:
        return exc
    log.warning("%s: a backing store is unavailable (%s)", method, type(exc).__name__)
    return unavailable


async def _abort_for(exc: BaseException, context: Context, method: str) -> None:
    if isinstance(exc, DomainError):
        span = trace.get_current_span()
        span.set_attribute("consilium.error_code", exc.code.value)
        status = rpc_status.to_status(to_rpc_status(exc))
        await context.abort_with_status(status)  # type: ignore[attr-defined]
    # Unexpected: log it with the trace id; the caller gets only the trace id to quote.
    trace_id = _trace_id()
    log.error("unhandled error in %s (trace %s)", method, trace_id, exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error; quote trace id {trace_id}")


class ServiceInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps each handler: caller metadata in a contextvar, domain errors to status, one log line.

    With `keep_metadata=False` (the content service) the handler never sees the caller's
    metadata at all: whatever a client sends there cannot reach content's code. `callers`
    checks the calling service's credential first (it sees the metadata either way).

    A method's wrapped handler is built once and reused (it reads each call's metadata from
    its context): building closures and a handler at every call was pure overhead.
    """

    def __init__(self, *, keep_metadata: bool = True, callers: CallerCheck | None = None) -> None:
        self._keep_metadata = keep_metadata
        self._callers = callers
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None:
            return handler
        known = self._wrapped.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = self._wrap(method, handler)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, method: str, handler: Handler) -> Handler:
        if method.startswith((_HEALTH_PREFIX, _REFLECTION_PREFIX)):
            return handler
        callers = self._callers

        def admit(received: Any) -> None:
            if callers is not None:
                callers.check(method, received)

        serving = _Serving(method, self._keep_metadata, admit)
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(handler.unary_unary, serving),  # type: ignore[arg-type]
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(handler.unary_stream, serving),  # type: ignore[arg-type]
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler


class _Serving:
    """What every call of one method goes through around its handler: the server span, the
    caller's metadata in a contextvar, admission, domain errors to a status, one log line.
    Names the handler learns (`also_redact`) stay masked to the call's last log line, the
    error log included."""

    def __init__(self, method: str, keep_metadata: bool, admit: Callable[[Any], None]) -> None:
        self._method = method
        self._keep_metadata = keep_metadata
        self._admit = admit
        self._attributes = method_attributes(method)

    @contextlib.asynccontextmanager
    async def call(self, context: Context) -> AsyncIterator[None]:
        method = self._method
        received: Any = context.invocation_metadata()
        with (
            redact_names(),
            start_server_span(method, self._attributes, received, context.peer()) as span,
        ):
            reset = set_caller_metadata(received if self._keep_metadata else None)
            started = time.perf_counter()
            outcome = "OK"
            try:
                self._admit(received)
                yield
            except Exception as raised:
                if isinstance(raised, grpc.aio.AbortError):
                    outcome = _aborted_code(context)
                    raise
                exc = _classify(raised, method)
                outcome = exc.code.value if isinstance(exc, DomainError) else "INTERNAL"
                await _abort_for(exc, context, method)
                raise  # unreachable: abort raises
            finally:
                reset_caller_metadata(reset)
                end_with(span, _STATUS.get(outcome))
                _log_call(method, outcome, started)


def _wrap_unary(
    behaviour: Callable[[Any, Context], Awaitable[Any]], serving: _Serving
) -> Callable[[Any, Context], Awaitable[Any]]:
    async def wrapped(request: Any, context: Context) -> Any:
        async with serving.call(context):
            return await behaviour(request, context)

    return wrapped


def _wrap_stream(
    behaviour: Callable[[Any, Context], AsyncIterator[Any]], serving: _Serving
) -> Callable[[Any, Context], AsyncIterator[Any]]:
    async def wrapped(request: Any, context: Context) -> AsyncIterator[Any]:
        async with serving.call(context):
            async for item in behaviour(request, context):
                yield item

    return wrapped


def _aborted_code(context: Context) -> str:
    """The status a handler aborted with itself (ABORTED when grpc cannot say)."""
    code = context.code()
    return code.name if isinstance(code, grpc.StatusCode) else "ABORTED"


def _log_call(method: str, outcome: str, started: float) -> None:
    # Method and outcome only: requests carry personal data and are never logged. Successful
    # calls are routine (DEBUG); refusals and failures are worth a line (INFO). The outcome is
    # a status code name (the domain codes are spelled like gRPC's), so it is a bounded label.
    elapsed = time.perf_counter() - started
    requests, duration, errors = _instruments(method, outcome)
    requests.inc()
    duration.observe(elapsed)
    if errors is not None:
        errors.inc()
    level = logging.DEBUG if outcome == "OK" else logging.INFO
    if not log.isEnabledFor(level):
        return  # the routine case: no record, no fields built
    fields = {"rpc": method, "outcome": outcome, "duration_ms": round(elapsed * 1000, 2)}
    log.log(level, "rpc %s %s", method, outcome, extra={"fields": fields})


_Instruments: TypeAlias = tuple[Any, Any, Any]
_children: dict[tuple[str, str], _Instruments] = {}


def _instruments(method: str, outcome: str) -> _Instruments:
    """The labelled metric children of (method, outcome), looked up once: `labels()` validates
    and locks at every call. Both labels are bounded (registered methods, status names)."""
    key = (method, outcome)
    found = _children.get(key)
    if found is None:
        errors = GRPC_ERRORS.labels(method, outcome) if outcome != "OK" else None
        found = (
            GRPC_REQUESTS.labels(method, outcome),
            GRPC_DURATION.labels(method, outcome),
            errors,
        )
        _children[key] = found
    return found
