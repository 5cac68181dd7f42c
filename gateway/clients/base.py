"""What every upstream client shares: one channel, error conversion, a span-safe call helper."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import grpc

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
