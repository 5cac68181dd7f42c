"""Client channels: a deadline on every call, retries for idempotent reads, trace context."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import grpc
from opentelemetry import propagate

from plumbing.metrics.instruments import UPSTREAM_DURATION, UPSTREAM_REQUESTS, split_method

DEFAULT_DEADLINE = 5.0
#: Reconnect backoff bounds. gRPC's default grows to 120 s, so a peer that restarted in 5 s
#: could stay unreachable for 20 s more (measured by the fault matrix, `make faults`); 1 s at
#: most costs a few connection attempts per second while the peer is away.
RECONNECT_BACKOFF_MS = (100, 1000)

#: Metadata presenting the calling service (e.g. `ServiceCredentials.metadata` for one audience).
ServiceToken = Callable[[], Sequence[tuple[str, str]]]


def _retry_config(service: str, idempotent_methods: Iterable[str]) -> str:
    methods = [{"service": service, "method": m} for m in idempotent_methods]
    if not methods:
        return json.dumps({"methodConfig": []})
    return json.dumps(
        {
            "methodConfig": [
                {
                    "name": methods,
                    "retryPolicy": {
                        "maxAttempts": 3,
                        "initialBackoff": "0.05s",
                        "maxBackoff": "0.5s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ]
        }
    )


class _CallInterceptor(
    grpc.aio.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.aio.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Every call gets the channel's deadline (unless it set one) and the W3C trace context.

    Trace context is injected here rather than by OpenTelemetry's gRPC client interceptor:
    that one swallows cancellation (open-telemetry/opentelemetry-python-contrib#3271), so a
    request that timed out in the gateway kept its upstream calls running. Only
    `traceparent` travels (the global propagator is trace context only, never baggage).
    """

    def __init__(self, deadline: float, service_token: ServiceToken | None = None) -> None:
        self._deadline = deadline
        self._service_token = service_token

    def _prepare(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        if self._service_token is not None:
            carrier.update(self._service_token())
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        for key, value in carrier.items():
            metadata[key] = value
        return grpc.aio.ClientCallDetails(
            details.method,
            self._deadline if details.timeout is None else details.timeout,
            metadata,
            details.credentials,
            details.wait_for_ready,
        )

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        started = time.perf_counter()
        call = await continuation(self._prepare(details), request)
        code = "OK"
        try:
            await call  # the caller awaits it again: a finished call keeps its outcome
        except grpc.aio.AioRpcError as exc:
            code = exc.code().name
        except BaseException as exc:  # cancelled by the caller, or failed before an answer
            code = "CANCELLED" if isinstance(exc, asyncio.CancelledError) else "UNKNOWN"
            raise
        finally:
            _count_upstream(details.method, code, started)
        return call

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        # Streams are counted when opened: their outcome arrives long after (or never).
        _count_upstream(details.method, "STREAM_OPENED", None)
        return await continuation(self._prepare(details), request)


def _count_upstream(method: str | bytes, code: str, started: float | None) -> None:
    path = method.decode() if isinstance(method, bytes) else method
    service, name = split_method(path)
    UPSTREAM_REQUESTS.labels(service, name, code).inc()
    if started is not None:
        UPSTREAM_DURATION.labels(service, name).observe(time.perf_counter() - started)


def create_channel(
    target: str,
    *,
    service: str,
    idempotent_methods: Iterable[str] = (),
    deadline: float = DEFAULT_DEADLINE,
    service_token: ServiceToken | None = None,
) -> grpc.aio.Channel:
    """An insecure channel to `target` (cluster-internal; mTLS belongs to the mesh).

    `service` is the full proto service name; `idempotent_methods` are retried on
    UNAVAILABLE with backoff. Every call gets `deadline` seconds unless it sets its own,
    and, with `service_token`, the calling service's credential.
    """
    return grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.enable_retries", 1),
            ("grpc.service_config", _retry_config(service, idempotent_methods)),
            ("grpc.initial_reconnect_backoff_ms", RECONNECT_BACKOFF_MS[0]),
            ("grpc.min_reconnect_backoff_ms", RECONNECT_BACKOFF_MS[0]),
            ("grpc.max_reconnect_backoff_ms", RECONNECT_BACKOFF_MS[1]),
        ],
        interceptors=[_CallInterceptor(deadline, service_token)],  # type: ignore[list-item]
    )
