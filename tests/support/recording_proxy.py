"""A gRPC proxy that records every request one service receives, as raw bytes, for adversary tests.

It forwards any unary call (method, request bytes, metadata) to the real server and keeps
a copy, so a test can play a curious or compromised service: "what did I ever receive in
one call, or in one GraphQL request?" It decodes nothing, so it cannot miss a field.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc

ALIAS_ID = re.compile(rb"als_[a-z2-7]{26}")


@dataclass(frozen=True, slots=True)
class RecordedCall:
    method: str
    request: bytes
    metadata: tuple[tuple[str, str | bytes], ...]
    at: float

    def alias_ids(self) -> set[str]:
        return {m.decode() for m in ALIAS_ID.findall(self.request)}


@dataclass
class RecordingProxy:
    """The proxy's address and what it saw; `mark()` splits calls into GraphQL requests."""

    address: str
    calls: list[RecordedCall] = field(default_factory=list)
    _marks: list[int] = field(default_factory=list)

    def mark(self) -> None:
        """Starts a new group of calls (call it before each GraphQL request)."""
        self._marks.append(len(self.calls))

    def groups(self) -> list[list[RecordedCall]]:
        """The calls between consecutive marks (one GraphQL request each)."""
        bounds = [*self._marks, len(self.calls)]
        return [self.calls[a:b] for a, b in itertools.pairwise(bounds)]


def _identity(data: bytes) -> bytes:
    return data


class _Forwarder(grpc.GenericRpcHandler):
    def __init__(self, channel: grpc.aio.Channel, proxy: RecordingProxy) -> None:
        self._channel = channel
        self._proxy = proxy

    def service(self, handler_call_details: Any) -> grpc.RpcMethodHandler | None:
        method: str = handler_call_details.method
        forward = self._channel.unary_unary(
            method, request_serializer=_identity, response_deserializer=_identity
        )
        proxy = self._proxy

        async def handle(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            metadata = tuple((m.key, m.value) for m in context.invocation_metadata() or ())
            proxy.calls.append(RecordedCall(method, request, metadata, time.monotonic()))
            try:
                reply: bytes = await forward(request, metadata=_forwardable(metadata))
            except grpc.aio.AioRpcError as exc:
                await context.abort(exc.code(), exc.details() or "")
            return reply

        return grpc.unary_unary_rpc_method_handler(
            handle, request_deserializer=_identity, response_serializer=_identity
        )


def _forwardable(
    metadata: Iterable[tuple[str, str | bytes]],
) -> tuple[tuple[str, str | bytes], ...]:
    # gRPC adds its own user-agent and the like; only application metadata travels on.
    return tuple(
        (k, v) for k, v in metadata if not k.startswith(("grpc-", ":")) and k != "user-agent"
    )


@asynccontextmanager
async def recording_proxy(target: str) -> AsyncIterator[RecordingProxy]:
    """A proxy on a free loopback port in front of the gRPC server at `target`."""
    channel = grpc.aio.insecure_channel(target)
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    proxy = RecordingProxy(address=f"127.0.0.1:{port}")
    server.add_generic_rpc_handlers((_Forwarder(channel, proxy),))
    await server.start()
    try:
        yield proxy
    finally:
        await server.stop(grace=None)
        await channel.close()
