"""Body size and time, the outermost HTTP limits: 413 past `max_body_bytes`, 504 past `timeout`."""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plumbing.metrics.instruments import GRAPHQL_ERRORS


class RequestLimits:
    """Refuses bodies over `max_body_bytes` (413) and answers 504 past `timeout` seconds."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _error(413, "PAYLOAD_TOO_LARGE", self._too_large())(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body_bytes:
                raise _BodyTooLarge
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            async with asyncio.timeout(self.timeout):
                await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _error(413, "PAYLOAD_TOO_LARGE", self._too_large())(scope, receive, send)
        except TimeoutError:
            if not started:
                message = f"the request took longer than {self.timeout:g}s and was stopped"
                await _error(504, "TIMEOUT", message)(scope, receive, send)

    def _too_large(self) -> str:
        return f"request body over {self.max_body_bytes} bytes; send a smaller query"


class _BodyTooLarge(Exception):
    pass


def _error(status: int, code: str, message: str) -> JSONResponse:
    # Refused before GraphQL ran, so the operation metrics never see it: counted here.
    GRAPHQL_ERRORS.labels(code).inc()
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status)
