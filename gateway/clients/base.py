"""What every upstream client shares: one channel, error conversion, a span-safe call helper."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import grpc

from plumbing.grpc.channel import ServiceToken, create_channel
from plumbing.grpc.errors import from_rpc_error

Response = TypeVar("Response")
Metadata = Sequence[tuple[str, str]]


async def invoke(
    method: Callable[..., Awaitable[Response]], request: Any, metadata: Metadata | None = None
) -> Response:
    """Calls `method`; a failed call becomes a DomainError (code and field violations kept)."""
    try:
        if metadata:
            return await method(request, metadata=tuple(metadata))
        return await method(request)
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc) from None


class UpstreamClient:
    """One channel to one upstream service: its full name, the methods a failed call may
    retry (they are safe to ask twice) and the deadline of every call, set by subclasses."""

    service: str = ""
    idempotent: tuple[str, ...] = ()
    #: The generated stub class; subclasses narrow `_stub` to it.
    stub_class: Callable[[grpc.aio.Channel], Any]
    _stub: Any

    def __init__(
        self, address: str, *, deadline: float, service_token: ServiceToken | None = None
    ) -> None:
        # `service_token`: the gateway's own credential on every call, where the service
        # admits the gateway alone (anonymity, content).
        self.channel: grpc.aio.Channel = create_channel(
            address,
            service=self.service,
            idempotent_methods=self.idempotent,
            deadline=deadline,
            service_token=service_token,
        )
        self._stub = self.stub_class(self.channel)

    async def close(self) -> None:
        await self.channel.close(grace=None)
