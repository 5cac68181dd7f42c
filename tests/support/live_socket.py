"""A graphql-transport-ws client for the subscription tests, the operations they send, and the
events content would publish for a write (posted by the tests themselves)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from consilium.content.v1 import types_pb2 as ctypes
from consilium.events.v1 import content_events_pb2 as events
from gateway.settings import GatewaySettings
from plumbing.events.bus import EventBus
from plumbing.events.envelope import Event, new_event
from plumbing.events.factory import create_bus
from plumbing.events.topics import CONTENT_POSTS
from support.system import System

PROTOCOL = Subprotocol("graphql-transport-ws")
CREATE = (
    """mutation($input: CreatePostInput!) { createPost(input: $input) { id author { aliasId } } }"""
)
COMMENT = (
    """mutation($input: AddCommentInput!) { addComment(input: $input) { id author { aliasId } } }"""
)
POST_ADDED = """subscription($community: ID) { postAdded(community: $community) {
  id title community { id } viewerIsAuthor
  author { aliasId handle displayName verifiedPhysician isViewer } } }"""
COMMENT_ADDED = """subscription($postId: ID!) { commentAdded(postId: $postId) {
  id body parentId viewerIsAuthor author { aliasId handle displayName isViewer } } }"""


class Socket:
    """One graphql-transport-ws connection; messages of other operations wait their turn."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._pending: defaultdict[str, deque[dict[str, Any]]] = defaultdict(deque)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def subscribe(self, op: str, query: str, variables: dict[str, Any]) -> None:
        payload = {"query": query, "variables": variables}
        await self.send({"id": op, "type": "subscribe", "payload": payload})

    async def message(self, op: str, within: float = 10.0) -> dict[str, Any]:
        """The next message of operation `op` (next, error or complete)."""
        async with asyncio.timeout(within):
            while not self._pending[op]:
                message = json.loads(await self.ws.recv())
                self._pending[message.get("id", "")].append(message)
        return self._pending[op].popleft()

    async def next(
        self, op: str, skip: frozenset[str] | set[str] = frozenset(), within: float = 10.0
    ) -> Any:
        """The data of the next event of `op` whose id is not in `skip` (probe repeats)."""
        async with asyncio.timeout(within):
            while True:
                message = await self.message(op, within)
                assert message["type"] == "next", message
                assert "errors" not in message["payload"], message
                (value,) = message["payload"]["data"].values()
                if value["id"] not in skip:
                    return value


@contextlib.asynccontextmanager
async def socket(system: System, token: str | None, **init: Any) -> AsyncIterator[Socket]:
    url = system.gateway_url.replace("http://", "ws://", 1)
    payload = {"authorization": f"Bearer {token}"} if token else {}
    async with connect(url, subprotocols=[PROTOCOL], proxy=None, open_timeout=10) as ws:
        sock = Socket(ws)
        await sock.send({"type": "connection_init", "payload": {**payload, **init}})
        async with asyncio.timeout(10):
            ack = json.loads(await ws.recv())
        assert ack["type"] == "connection_ack", ack
        yield sock


@contextlib.asynccontextmanager
async def event_bus(system: System, kafka_bootstrap: str | None = None) -> AsyncIterator[EventBus]:
    """The bus the gateway reads: the embedded one of the system's data dir, or Kafka."""
    bootstrap = kafka_bootstrap or GatewaySettings(data_dir=system.data_dir).kafka_bootstrap
    bus = create_bus(kafka_bootstrap=bootstrap, data_dir=system.data_dir, client_id="e2e-test")
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.now(UTC))
    return stamp


def post_created(post_id: str, community: str, alias_id: str) -> Event:
    message = events.PostCreated(
        post_id=post_id,
        community_id=community,
        kind=ctypes.POST_KIND_DISCUSSION,
        author_alias_id=alias_id,
        created_at=_now(),
    )
    return new_event(message, topic=CONTENT_POSTS, key=post_id, source="/consilium/content")


def comment_created(comment_id: str, post_id: str, alias_id: str, parent_id: str = "") -> Event:
    message = events.CommentCreated(
        comment_id=comment_id,
        post_id=post_id,
        parent_id=parent_id,
        author_alias_id=alias_id,
        created_at=_now(),
    )
    return new_event(message, topic=CONTENT_POSTS, key=post_id, source="/consilium/content")


async def live(sock: Socket, op: str, probe: Callable[[], Awaitable[None]]) -> None:
    """Waits until subscription `op` is registered: publishes `probe` (an event it matches)
    until one arrives. Callers then skip the probe's id, as repeats may still be on their way."""
    async with asyncio.timeout(20):
        while True:
            await probe()
            try:
                message = await sock.message(op, within=0.5)
            except TimeoutError:
                continue
            assert message["type"] == "next", message
            return
