"""When an upstream is down or slow: partial data and UNAVAILABLE, a 504, never a leak or a 500."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import uvicorn
from support.system import System, run_system

from gateway.app import create_app
from gateway.settings import GatewaySettings

UNAVAILABLE = "upstream service unavailable"
#: What would tell a client how the system is built, or that a fallback was taken.
INTERNALS = ("127.0.0.1", "grpc", "Traceback", "StatusCode", "Deadline", "ipv4", "Former member")
#: The longest a black-holed call is held; the tests' deadlines all end well before it.
HOLD_CAP = 30.0
CREATE = """mutation($input: CreatePostInput!) { createPost(input: $input) {
  id author { aliasId displayName } } }"""
FEED = "{ feed(first: 10) { nodes { id title author { aliasId handle displayName } } } }"


async def post(
    system: System, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await system.http.post(
        system.gateway_url, json={"query": query, "variables": variables or {}}, headers=headers
    )


def assert_unavailable(
    reply: httpx.Response, *paths: list[str | int], every_path: bool = True
) -> None:
    """HTTP 200; errors at `paths` (all of them, or some if not `every_path`) and nowhere
    else, each UNAVAILABLE; nothing internal is said."""
    assert reply.status_code == 200, reply.text
    errors = reply.json()["errors"]
    failed = {tuple(e["path"]) for e in errors}
    expected = {tuple(p) for p in paths}
    if every_path:
        assert failed == expected, errors
    else:
        assert failed and failed <= expected, errors
    for error in errors:
        assert error["extensions"] == {"code": "UNAVAILABLE"}, error
        assert error["message"] == UNAVAILABLE
    for internal in INTERNALS:
        assert internal.lower() not in reply.text.lower(), internal


def discussion(visibility: str, title: str) -> dict[str, Any]:
    return {
        "input": {
            "kind": "DISCUSSION",
            "community": "lounge-stories",
            "title": title,
            "body": "Nothing to see.",
            "visibility": visibility,
        }
    }


# -- one service down -----------------------------------------------------------------------


async def test_content_down_is_unavailable_with_nothing_internal(system: System) -> None:
    await system.content.server.stop()
    reply = await post(system, "{ communities { id } specialties { code } }")
    assert_unavailable(reply, ["communities"])
    assert str(system.content.server.port) not in reply.text
    assert (reply.json()["data"] or {}).get("communities") is None, "no empty-list fallback"


async def test_content_down_keeps_the_other_fields(system: System) -> None:
    reader = await system.reader()
    await system.content.server.stop()
    reply = await post(system, '{ post(id: "pst_any") { id } specialties { code } }', token=reader)
    assert_unavailable(reply, ["post"])
    data = reply.json()["data"]
    assert data["post"] is None
    assert "207RC0000X" in [s["code"] for s in data["specialties"]]


async def test_content_down_gives_partial_data(system: System) -> None:
    await system.content.server.stop()
    reply = await post(system, "{ communities { id } specialties { code } }")
    assert_unavailable(reply, ["communities"])
    data = reply.json()["data"]
    assert data is not None, reply.text
    assert data["communities"] is None
    assert "207RC0000X" in [s["code"] for s in data["specialties"]]


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    """The system without the gateway's persona cache (gateway/caches.py): these tests are
    about what a reader sees when anonymity cannot be asked, and a warm cache would answer."""
    async with run_system(tmp_path / "data", persona_cache_max_entries=0) as running:
        yield running


async def test_anonymity_down_never_falls_back_to_the_author(system: System) -> None:
    user_id, token = await system.account(full_name="Dr. Canary Fallback")
    await post(system, CREATE, discussion("IDENTIFIED", "Named post"), token)
    await post(system, CREATE, discussion("PSEUDONYMOUS", "Masked post"), token)
    reader = await system.reader()
    before = (await post(system, FEED, token=reader)).json()["data"]["feed"]["nodes"]
    assert "Dr. Canary Fallback" in [n["author"]["displayName"] for n in before], "canary"

    await system.anonymity.server.stop()
    for as_whom in (reader, token):
        reply = await post(system, FEED, token=as_whom)
        # Whether every author's error is reported or only the first, none may leak.
        authors: list[list[str | int]] = [["feed", "nodes", i, "author"] for i in (0, 1)]
        assert_unavailable(reply, *authors, every_path=False)
        for identifying in ("Dr. Canary Fallback", user_id, "staff.example.org"):
            assert identifying not in reply.text
        nodes = ((reply.json()["data"] or {}).get("feed") or {}).get("nodes") or []
        assert all(n is None or n["author"] is None for n in nodes), nodes


async def test_anonymity_down_author_lookup_keeps_the_other_fields(system: System) -> None:
    _, token = await system.account()
    created = await post(system, CREATE, discussion("ANONYMOUS", "Anything"), token)
    alias = created.json()["data"]["createPost"]["author"]["aliasId"]
    await system.anonymity.server.stop()
    reply = await post(
        system,
        "query($a: ID!) { author(aliasId: $a) { handle } communities { id } }",
        {"a": alias},
        token,
    )
    assert_unavailable(reply, ["author"])
    data = reply.json()["data"]
    assert data["author"] is None
    assert "lounge-stories" in [c["id"] for c in data["communities"]]


async def test_anonymity_down_refuses_to_post(system: System) -> None:
    _, token = await system.account()
    await system.anonymity.server.stop()
    reply = await post(system, CREATE, discussion("IDENTIFIED", "Fail closed"), token)
    assert_unavailable(reply, ["createPost"])
    feed = await post(system, "{ feed { nodes { title } } }", token=token)
    assert feed.json()["data"]["feed"]["nodes"] == [], "nothing posted without an alias"


async def test_anonymity_down_feed_keeps_its_posts(system: System) -> None:
    _, token = await system.account()
    for title in ("First", "Second"):
        await post(system, CREATE, discussion("PSEUDONYMOUS", title), token)
    await system.anonymity.server.stop()
    reply = await post(system, FEED, token=token)
    assert_unavailable(reply, ["feed", "nodes", 0, "author"], ["feed", "nodes", 1, "author"])
    nodes = reply.json()["data"]["feed"]["nodes"]
    assert [n["title"] for n in nodes] == ["Second", "First"]
    assert [n["author"] for n in nodes] == [None, None]


# -- a slow upstream ------------------------------------------------------------------------


class BlackHole(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    """Takes every call and answers none until released (at most HOLD_CAP seconds)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[bytes, bytes]:
        return grpc.unary_unary_rpc_method_handler(self._hold)

    async def _hold(
        self, _request: bytes, _context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> bytes:
        try:
            async with asyncio.timeout(HOLD_CAP):
                await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        except TimeoutError:
            pass
        return b""


@pytest.fixture
async def black_hole() -> AsyncIterator[tuple[str, BlackHole]]:
    handler = BlackHole()
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}", handler
    finally:
        handler.release.set()
        await server.stop(grace=1)


@contextlib.asynccontextmanager
async def gateway_over(address: str, tmp_path: Path, **limits: float) -> AsyncIterator[str]:
    """The gateway alone, over HTTP on loopback, with every upstream at `address`."""
    settings = GatewaySettings(
        data_dir=tmp_path,
        identity_address=address,
        anonymity_address=address,
        content_address=address,
        **limits,  # type: ignore[arg-type]
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), log_config=None, access_log=False, lifespan="on")
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            async with asyncio.timeout(30):
                while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
                    await asyncio.sleep(0.02)
            yield f"http://127.0.0.1:{sock.getsockname()[1]}/graphql"
        finally:
            server.should_exit = True
            await task


async def test_a_slow_upstream_ends_in_504_at_the_request_timeout(
    black_hole: tuple[str, BlackHole], tmp_path: Path
) -> None:
    address, _ = black_hole
    async with (
        gateway_over(address, tmp_path, request_timeout=0.5, upstream_deadline=20) as url,
        httpx.AsyncClient(timeout=10) as http,
    ):
        started = time.monotonic()
        reply = await http.post(url, json={"query": "{ communities { id } }"})
        elapsed = time.monotonic() - started
        assert reply.status_code == 504, reply.text
        assert reply.headers["content-type"] == "application/json"
        (error,) = reply.json()["errors"]
        assert error["extensions"] == {"code": "TIMEOUT"}
        assert "0.5s" in error["message"]
        assert elapsed < 5, "the request timeout, not the upstream deadline, ended it"
        alive = await http.get(url.removesuffix("/graphql") + "/healthz")
        assert alive.status_code == 200


async def test_a_timed_out_request_cancels_its_upstream_call(
    black_hole: tuple[str, BlackHole], tmp_path: Path
) -> None:
    address, hole = black_hole
    async with (
        gateway_over(address, tmp_path, request_timeout=0.5, upstream_deadline=20) as url,
        httpx.AsyncClient(timeout=10) as http,
    ):
        reply = await http.post(url, json={"query": "{ communities { id } }"})
        assert reply.status_code == 504
        async with asyncio.timeout(3):
            await hole.cancelled.wait()


async def test_an_upstream_past_its_deadline_is_unavailable(
    black_hole: tuple[str, BlackHole], tmp_path: Path
) -> None:
    address, hole = black_hole
    async with (
        gateway_over(address, tmp_path, request_timeout=20, upstream_deadline=0.3) as url,
        httpx.AsyncClient(timeout=10) as http,
    ):
        started = time.monotonic()
        reply = await http.post(url, json={"query": "{ communities { id } }"})
        assert time.monotonic() - started < 5
        assert reply.status_code == 200, reply.text
        (error,) = reply.json()["errors"]
        assert error["path"] == ["communities"]
        assert error["extensions"] == {"code": "UNAVAILABLE"}
        assert error["message"] == UNAVAILABLE
        for internal in INTERNALS:
            assert internal.lower() not in reply.text.lower(), internal
        # The deadline travels with the call, so the upstream stops too (on its own clock).
        async with asyncio.timeout(5):
            await hole.cancelled.wait()
