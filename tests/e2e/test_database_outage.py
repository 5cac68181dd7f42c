"""A database that cannot be reached reads as UNAVAILABLE (retryable), never as an internal error.

Content runs on the real PostgreSQL behind a TCP proxy; cutting the proxy is what content sees
when the server dies (open connections reset, new ones refused). Reads and writes must answer
`UNAVAILABLE` with nothing internal said, and work again by themselves once it is back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy.engine import make_url
from support.service_channel import service_channel
from support.system import System, run_system
from support.tcp_proxy import TcpProxy, tcp_proxy
from test_gateway_resilience import CREATE, INTERNALS, discussion, post

from gen.consilium.content.v1 import content_pb2, content_pb2_grpc

pytestmark = pytest.mark.postgres
FEED = "{ feed(first: 5) { nodes { id title } } }"


@pytest.fixture
async def proxied(fresh_postgres_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    url = make_url(fresh_postgres_url)
    async with tcp_proxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        through = url.set(host="127.0.0.1", port=proxy.port)
        yield proxy, through.render_as_string(hide_password=False)


@pytest.fixture
async def system(tmp_path: Path, proxied: tuple[TcpProxy, str]) -> AsyncIterator[System]:
    _, content_url = proxied
    async with run_system(tmp_path / "data", {"content": content_url}) as running:
        yield running


def assert_every_error_unavailable(reply: Any) -> None:
    assert reply.status_code == 200, reply.text
    errors = reply.json().get("errors")
    assert errors, reply.text
    for error in errors:
        assert error["extensions"]["code"] == "UNAVAILABLE", error
    for internal in (*INTERNALS, "internal error", "postgres", "asyncpg", "sqlalchemy"):
        assert internal.lower() not in reply.text.lower(), internal


async def test_database_gone_reads_and_writes_are_unavailable_then_recover(
    system: System, proxied: tuple[TcpProxy, str]
) -> None:
    proxy, _ = proxied
    _, token = await system.account()
    first = await post(system, CREATE, discussion("ANONYMOUS", "Before the outage"), token)
    assert not first.json().get("errors"), first.text

    await proxy.cut()
    assert_every_error_unavailable(await post(system, FEED, token=token))
    write = await post(system, CREATE, discussion("ANONYMOUS", "During the outage"), token)
    assert_every_error_unavailable(write)

    # gRPC callers other than the gateway see the retryable status too.
    assert system.content is not None
    address = f"127.0.0.1:{system.content.server.port}"
    async with service_channel(address, system.data_dir, audience="content") as channel:
        stub = content_pb2_grpc.ContentServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.ListCommunities(content_pb2.ListCommunitiesRequest(), timeout=10)
    assert raised.value.code() is grpc.StatusCode.UNAVAILABLE, raised.value

    await proxy.start()
    after = await post(system, FEED, token=token)
    assert not after.json().get("errors"), after.text
    titles = [n["title"] for n in after.json()["data"]["feed"]["nodes"]]
    assert titles == ["Before the outage"], "a write answered UNAVAILABLE must not have applied"
