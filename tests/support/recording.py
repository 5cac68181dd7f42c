"""Records every RPC the in-process services receive: method, raw metadata and request.

An insider with content's process sees exactly this, so privacy tests read it as that
adversary would. Installed by wrapping `grpc.aio.server` for the test's duration: the
recording interceptor comes first, before any interceptor of ours could strip metadata.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message


@dataclass(frozen=True, slots=True)
class Received:
    """One call as the receiving server saw it."""

    method: str
    metadata: tuple[tuple[str, str | bytes], ...]
    request: Message

    @property
    def service(self) -> str:
        return self.method.strip("/").split("/")[0]


class RecordingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(self) -> None:
        self.calls: list[Received] = []

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        method = details.method
        metadata = tuple((m.key, m.value) for m in details.invocation_metadata or ())

        async def record(request: Message, context: Any) -> Any:
            self.calls.append(Received(method, metadata, request))
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            record,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def to(self, service: str) -> list[Received]:
        """Calls received by `service` (e.g. "consilium.content.v1.ContentService")."""
        return [c for c in self.calls if c.service == service]


def record_servers(monkeypatch: pytest.MonkeyPatch) -> RecordingInterceptor:
    """Every gRPC server created from now on (until the test ends) records into the result."""
    recorder = RecordingInterceptor()
    create = grpc.aio.server

    def server(*args: Any, interceptors: Any = (), **kwargs: Any) -> grpc.aio.Server:
        return create(*args, interceptors=[recorder, *(interceptors or ())], **kwargs)

    monkeypatch.setattr(grpc.aio, "server", server)
    return recorder
