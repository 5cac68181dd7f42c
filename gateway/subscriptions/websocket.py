"""graphql-transport-ws with our authentication: the token may come in `connection_init`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from gateway.context import GatewayContext
from gateway.loaders import create_loaders
from gateway.persisted.operations import PersistedOperations, PersistedRefusal
from gateway.subscriptions.direct import Sink, operation_sink
from gateway.subscriptions.sharing import SharedData

#: Close code of graphql-transport-ws for a connection the server refuses.
FORBIDDEN = 4403
_MAX_REASON = 120  # WebSocket close reasons are limited to 123 bytes
_NEXT = '{{"id":{id},"type":"next","payload":{{"data":{data}}}}}'


def authorization_param(payload: Mapping[str, object]) -> str | None:
    """The `Authorization` value of a connection_init payload, whatever the key's case
    (browsers cannot set headers on a WebSocket, so clients send it here)."""
    for key, value in payload.items():
        if key.lower() == "authorization" and isinstance(value, str):
            return value
    return None


class AuthenticatingHandler(BaseGraphQLTransportWSHandler[GatewayContext, None]):
    """Authenticates `connection_init`: a bad token closes the connection (4403) at once,
    rather than acknowledging it and failing every later operation."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload")
        first = not self.connection_init_received and not self.connection_timed_out
        if first and isinstance(payload, Mapping):
            authorization = authorization_param(payload)
            if authorization is not None:
                await self._authenticate(authorization)
            error = self.context.auth.error
            if error is not None:
                self.connection_init_received = True
                if self.connection_init_timeout_task:
                    self.connection_init_timeout_task.cancel()
                reason = f"Forbidden: {error.message}"[:_MAX_REASON]
                await self.websocket.close(code=FORBIDDEN, reason=reason)
                return
        await super().handle_connection_init(message)

    async def _authenticate(self, authorization: str) -> None:
        # The handshake's own Authorization header (if any) was read into the context when
        # the socket opened; connection_init's token replaces it.
        context = self.context
        upstreams = context.upstreams
        auth = await upstreams.authenticator.authenticate(authorization)
        self.context = dataclasses.replace(
            context,
            auth=auth,
            loaders=create_loaders(
                upstreams.anonymity,
                upstreams.content,
                auth.viewer,
                identity=upstreams.identity,
                caches=upstreams.caches,
            ),
        )

    async def send_message(self, message: Message) -> None:
        # A live event's shared result (gateway/subscriptions/sharing.py) is serialized once
        # for all its subscribers: only the operation id differs from one message to another.
        payload = message.get("payload")
        data = payload.get("data") if isinstance(payload, dict) else None
        alone = isinstance(payload, dict) and len(payload) == 1  # no errors, no extensions
        if message["type"] == "next" and isinstance(data, SharedData) and alone:
            await self._send_text(_NEXT.format(id=json.dumps(message["id"]), data=data.json()))
            return
        await super().send_message(message)

    async def _send_text(self, text: str) -> None:
        """`text` (a JSON message) as one frame, as Strawberry would send its parsed form."""
        socket = getattr(self.websocket, "ws", None)
        if not isinstance(socket, WebSocket):
            await self.websocket.send_json(json.loads(text))
            return
        try:
            await socket.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    def _sink(self, operation_id: str) -> Sink:
        """Where the operation's shared live events go without Strawberry (direct.py); it
        sends only while the operation runs, as Strawberry's `next` would."""

        def running() -> bool:
            operation = self.operations.get(operation_id)
            return operation is not None and not operation.completed

        return Sink(operation_id, self._send_text, running)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # One context serves the whole connection; each operation starts from fresh loaders.
        self.context.loaders.clear()
        persisted = getattr(self.view, "persisted", None)
        payload = message.get("payload")
        if isinstance(persisted, PersistedOperations) and isinstance(payload, Mapping):
            # The same trusted documents and mode as over HTTP, or `only` had a side door.
            try:
                query = persisted.resolve(payload)
            except PersistedRefusal as refusal:
                errors = refusal.body()["errors"]
                await self.send_message({"id": message["id"], "type": "error", "payload": errors})
                return
            if query is not None:
                message = {**message, "payload": {**payload, "query": query}}
        # The operation's task (started here, with a copy of this context) finds its sink.
        with operation_sink(self._sink(message["id"])):
            await super().handle_subscribe(message)
