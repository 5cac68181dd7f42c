"""Client channels: a deadline on every call, retries for idempotent reads, OTel propagation."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

DEFAULT_DEADLINE = 5.0


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


class _DeadlineInterceptor(
    grpc.aio.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.aio.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Gives every call without an explicit timeout the channel's default deadline."""

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline

    def _with_deadline(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        if details.timeout is not None:
            return details
        return grpc.aio.ClientCallDetails(
            details.method,
            self._deadline,
            details.metadata,
            details.credentials,
            details.wait_for_ready,
        )

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._with_deadline(details), request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._with_deadline(details), request)


def create_channel(
    target: str,
    *,
    service: str,
    idempotent_methods: Iterable[str] = (),
    deadline: float = DEFAULT_DEADLINE,
) -> grpc.aio.Channel:
    """An insecure channel to `target` (cluster-internal; mTLS belongs to the mesh).

    `service` is the full proto service name; `idempotent_methods` are retried on
    UNAVAILABLE with backoff. Every call gets `deadline` seconds unless it sets its own.
    """
    return grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.enable_retries", 1),
            ("grpc.service_config", _retry_config(service, idempotent_methods)),
        ],
        interceptors=[_DeadlineInterceptor(deadline), *aio_client_interceptors()],  # type: ignore[list-item,no-untyped-call]
    )
