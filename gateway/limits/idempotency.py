"""`Idempotency-Key` on mutations: a client's retry gets the first answer and applies nothing.

A signed-in POST whose operation is a mutation and that carries `Idempotency-Key` is looked
up by (person, key). The first request runs; its response is kept for `ttl` seconds and every
retry with the same key and the same document, variables and operation name gets it back
(`Idempotent-Replayed: true`), without running anything. A retry that arrives while the first
still runs waits for it. The same key with another body is refused: 422,
`IDEMPOTENCY_KEY_REUSED`. A response whose errors say to retry (`RATE_LIMITED`, `UNAVAILABLE`,
an internal error) or that never finished is not kept, so a retry runs again.

Per replica, in memory, bounded (`max_entries`); README "Limits" says what a shared store
would need. Entries are found by a hash of person and key: neither is kept or logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.limits.admission import admission_of

HEADER = b"idempotency-key"
REUSED = "IDEMPOTENCY_KEY_REUSED"
#: Error codes after which a retry must run again rather than be answered from memory.
_RETRYABLE = frozenset({"RATE_LIMITED", "UNAVAILABLE", "INTERNAL_SERVER_ERROR", "TIMEOUT"})
_MAX_KEY = 255


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(slots=True)
class _Entry:
    fingerprint: str
    expires: float
    done: asyncio.Future[StoredResponse | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class IdempotencyStore:
    """(person, key) → the first response, for `ttl` seconds; at most `max_entries`."""

    def __init__(
        self, *, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def claim(self, slot: str, fingerprint: str) -> _Entry | None:
        """A new entry this request must fill (`finish`), or None when one exists already."""
        now = self._clock()
        existing = self._entries.get(slot)
        if existing is not None and existing.expires > now:
            return None
        entry = _Entry(fingerprint, now + self._ttl)
        self._entries[slot] = entry
        self._entries.move_to_end(slot)
        self._bound(now)
        return entry

    def get(self, slot: str) -> _Entry | None:
        entry = self._entries.get(slot)
        return entry if entry is not None and entry.expires > self._clock() else None

    def finish(self, slot: str, entry: _Entry, response: StoredResponse | None) -> None:
        """Keeps `response`, or (None) forgets the entry so the next retry runs again."""
        if response is None and self._entries.get(slot) is entry:
            del self._entries[slot]
        if not entry.done.done():
            entry.done.set_result(response)

    def __len__(self) -> int:
        return len(self._entries)

    def _bound(self, now: float) -> None:
        if len(self._entries) <= self._max:
            return
        for slot in [s for s, e in self._entries.items() if e.expires <= now]:
            del self._entries[slot]
        # Then the oldest finished ones; a request still running keeps its entry.
        for slot in [s for s, e in self._entries.items() if e.done.done()]:
            if len(self._entries) <= self._max:
                break
            del self._entries[slot]


class Idempotency:
    """ASGI middleware applying `IdempotencyStore` to signed-in mutations."""

    def __init__(self, app: ASGIApp, store: IdempotencyStore) -> None:
        self.app = app
        self._store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, HEADER)
        admission = admission_of(scope)
        viewer = admission.auth.viewer if admission else None
        if scope["type"] != "http" or scope["method"] != "POST" or key is None or viewer is None:
            await self.app(scope, receive, send)
            return
        if not 0 < len(key) <= _MAX_KEY or not key.isprintable():
            await _refuse(
                400, "BAD_USER_INPUT", "Idempotency-Key must be 1 to 255 visible characters"
            )(scope, receive, send)
            return
        body = await _read_body(receive)
        replay = _replayer(body)
        fingerprint = _mutation_fingerprint(body)
        if fingerprint is None:  # not a mutation (or not GraphQL at all): nothing to protect
            await self.app(scope, replay, send)
            return
        slot = hashlib.sha256(f"{viewer.user_id}\x00{key}".encode()).hexdigest()
        while True:
            entry = self._store.claim(slot, fingerprint)
            if entry is not None:
                await self._run_first(scope, replay, send, slot, entry)
                return
            existing = self._store.get(slot)
            if existing is None:
                continue  # it expired between the two looks
            if existing.fingerprint != fingerprint:
                message = (
                    "this Idempotency-Key was already used for a different request; "
                    "send a new key for a new request"
                )
                await _refuse(422, REUSED, message)(scope, replay, send)
                return
            stored = await asyncio.shield(existing.done)
            if stored is not None:
                await _send_stored(stored, send)
                return
            # The first attempt was not kept (it failed in a retryable way): run this one.

    async def _run_first(
        self, scope: Scope, receive: Receive, send: Send, slot: str, entry: _Entry
    ) -> None:
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def recording_send(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers") or [])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        kept: StoredResponse | None = None
        try:
            await self.app(scope, receive, recording_send)
            body = b"".join(chunks)
            if status and status < 500 and not _retryable(body):
                kept = StoredResponse(status, headers, body)
        finally:
            self._store.finish(slot, entry, kept)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return str(value.decode("latin-1")).strip()
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replayer(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _mutation_fingerprint(body: bytes) -> str | None:
    """A hash of document, variables and operation name when the operation is a mutation."""
    try:
        payload = json.loads(body)
        query, name = payload.get("query"), payload.get("operationName")
        document = parse(query) if isinstance(query, str) else None
    except (ValueError, AttributeError, GraphQLError):
        return None
    operations = (
        [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if document
        else []
    )
    chosen = [o for o in operations if name is None or (o.name and o.name.value == name)]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.MUTATION:
        return None
    canonical = json.dumps(
        {"query": query, "variables": payload.get("variables") or {}, "operationName": name},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _retryable(body: bytes) -> bool:
    try:
        errors: Any = json.loads(body).get("errors") or []
    except (ValueError, AttributeError):
        return True
    if not isinstance(errors, list):
        return True
    return any(
        not isinstance(e, dict) or (e.get("extensions") or {}).get("code") in _RETRYABLE
        for e in errors
    )


async def _send_stored(stored: StoredResponse, send: Send) -> None:
    headers = [*stored.headers, (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})


def _refuse(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)
