"""Live events sent straight to the socket when a subscriber's answer is a shared one.

A subscriber whose selection is shared (gateway/subscriptions/sharing.py) gets the very data
another subscriber of the event executed for the same key: for it, graphql-core's per-event
execution and Strawberry's result stream (its extensions, its `next` message) only copy that
data. On a graphql-transport-ws socket (gateway/subscriptions/websocket.py) such a subscriber
sends the shared frame itself, from its own task and in its own order of events, and never
executes: at 1,000 subscribers that per-subscriber machinery was most of an event's cost.

Only a finished, error-free shared result is sent this way (the key decides who may take it,
as for any follower); the first subscriber of a key, and every one whose key is None or whose
leader failed, executes as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
from collections.abc import Awaitable, Callable, Hashable, Iterator

from gateway.subscriptions.sharing import SharedData

#: Sends one text frame on the operation's socket (raises if the client went away).
SendText = Callable[[str], Awaitable[None]]


class Sink:
    """Where one graphql-transport-ws operation's `next` messages go, bypassing Strawberry."""

    __slots__ = ("_open", "_prefix", "_send")

    def __init__(self, operation_id: str, send: SendText, is_open: Callable[[], bool]) -> None:
        # Only the operation id differs from one subscriber's frame to another's.
        self._prefix = f'{{"id":{json.dumps(operation_id)},"type":"next","payload":{{"data":'
        self._send = send
        self._open = is_open

    async def next(self, data: SharedData) -> None:
        """As Strawberry's `next` message of a result with `data` only would be."""
        if self._open():
            await self._send(f"{self._prefix}{data.json()}}}}}")


_SINK: contextvars.ContextVar[Sink | None] = contextvars.ContextVar("sink", default=None)


@contextlib.contextmanager
def operation_sink(sink: Sink) -> Iterator[None]:
    """Around starting an operation's task (which copies the context): its subscription
    resolvers find `sink`. Nothing else sees it."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


async def sent_shared(
    results: dict[Hashable, asyncio.Future[SharedData | None]], key: Hashable | None
) -> bool:
    """Sends this subscriber's event as the shared result under `key`, if there is a sink and
    someone else executes (or executed) it successfully; False: the subscriber must execute
    (and, the first under `key`, lead). `key` None: it executes alone."""
    sink = _SINK.get()
    if sink is None or key is None:
        return False
    pending = results.get(key)
    if pending is None:
        return False
    # Shielded: a follower whose task is cancelled must not cancel the others' result.
    data = pending.result() if pending.done() else await asyncio.shield(pending)
    if data is None:
        return False  # the leader failed or got errors: execute, as sharing.py's followers do
    await sink.next(data)
    return True
