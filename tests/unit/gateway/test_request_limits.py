"""Body size and time: 413 before GraphQL reads too much, 504 when a request runs too long."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from gateway.limits.request import RequestLimits


class Inner:
    """Stands for the GraphQL view: reads the whole body; may hang after it starts answering."""

    def __init__(self, *, hang_before: bool = False, hang_after: bool = False) -> None:
        self.bodies: list[bytes] = []
        self.hang_before = hang_before
        self.hang_after = hang_after
        self.cancelled = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        try:
            if self.hang_before:
                await asyncio.Event().wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"partial", "more_body": True})
            if self.hang_after:
                await asyncio.Event().wait()
            await send({"type": "http.response.body", "body": b""})
        except asyncio.CancelledError:
            self.cancelled = True
            raise


def client(inner: Inner, *, max_body_bytes: int = 100, timeout: float = 5.0) -> httpx.AsyncClient:
    app = RequestLimits(inner, max_body_bytes=max_body_bytes, timeout=timeout)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


def refusals(code: str) -> float:
    return REGISTRY.get_sample_value("consilium_graphql_errors_total", {"code": code}) or 0.0


async def chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 10):
        yield b"x" * 10


async def test_a_body_declared_too_large_is_refused_unread() -> None:
    inner, before = Inner(), refusals("PAYLOAD_TOO_LARGE")
    async with client(inner) as http:
        reply = await http.post("/graphql", content=b"x" * 101)
        fits = await http.post("/graphql", content=b"x" * 100)
    assert reply.status_code == 413
    (error,) = reply.json()["errors"]
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    assert "over 100 bytes" in error["message"]
    assert fits.status_code == 200
    assert inner.bodies == [b"x" * 100]  # the large one never reached GraphQL
    assert refusals("PAYLOAD_TOO_LARGE") == before + 1  # counted, though GraphQL never ran


async def test_a_streamed_body_is_cut_at_the_limit_without_a_length() -> None:
    inner = Inner()
    async with client(inner) as http:
        reply = await http.post("/graphql", content=chunks(200))
    assert reply.status_code == 413
    assert inner.bodies == []


async def test_a_request_past_the_timeout_is_a_504_and_stops_its_work() -> None:
    inner, before = Inner(hang_before=True), refusals("TIMEOUT")
    async with client(inner, timeout=0.01) as http:
        reply = await http.post("/graphql", content=b"{}")
    assert reply.status_code == 504
    (error,) = reply.json()["errors"]
    assert error["extensions"] == {"code": "TIMEOUT"}
    assert "longer than 0.01s" in error["message"]
    assert inner.cancelled
    assert refusals("TIMEOUT") == before + 1


async def test_an_answer_already_started_is_not_followed_by_a_second_one() -> None:
    inner = Inner(hang_after=True)
    app = RequestLimits(inner, max_body_bytes=100, timeout=0.01)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": []}
    await app(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200  # already on the wire: no 504 after it; the stream ends
    assert inner.cancelled
