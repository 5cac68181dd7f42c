"""The system under bench: content as its own process, the rest in this one, on real gRPC.

Content runs apart (`consilium serve content`) so its CPU and RSS are its own; the gateway,
identity, anonymity and audit share the bench's process (tests/support/system.py), where
every upstream call the gateway makes is counted at its client layer (`invoke`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support.system import System, run_system

from gateway.caches import TTLCache
from gateway.clients import anonymity, audit, content, identity


@dataclass
class Stack:
    system: System
    processes: dict[str, int]  # what runs in it -> pid, for CPU and RSS


@contextlib.contextmanager
def counting_upstream_calls() -> Iterator[Counter[str]]:
    """Counts every gRPC call the gateway makes, by RPC name, while the block runs."""
    counted: Counter[str] = Counter()
    modules = (anonymity, audit, content, identity)
    originals = [m.invoke for m in modules]

    def wrap(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def counting(method: Any, request: Any, metadata: Any = None) -> Any:
            counted[type(request).__name__.removesuffix("Request")] += 1
            return await original(method, request, metadata)

        return counting

    for module, original in zip(modules, originals, strict=True):
        module.invoke = wrap(original)  # type: ignore[attr-defined]
    try:
        yield counted
    finally:
        for module, original in zip(modules, originals, strict=True):
            module.invoke = original  # type: ignore[attr-defined]


@contextlib.contextmanager
def counting_cache_lookups() -> Iterator[Counter[str]]:
    """Counts the gateway's shared-cache lookups (gateway/caches.py), "hit" and "miss"."""
    counted: Counter[str] = Counter()
    original = TTLCache.get

    def counting(cache: TTLCache[Any, Any], key: Any) -> Any:
        found = original(cache, key)
        counted["miss" if found is None else "hit"] += 1
        return found

    TTLCache.get = counting  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        TTLCache.get = original  # type: ignore[method-assign]


@contextlib.asynccontextmanager
async def stack(
    data_dir: Path, backend: str, *, content_apart: bool = True
) -> AsyncIterator[Stack]:
    """The whole system with its events running, on SQLite + embedded bus or PostgreSQL +
    Kafka (the servers scripts/bench.sh started). Without `content_apart`, content runs in
    this process too (a smoke run cannot spare the seconds a process takes to start)."""
    if backend == "dev":
        urls: dict[str, str] = {}
        bootstrap = None
        databases: contextlib.AbstractAsyncContextManager[dict[str, str]] = _nothing()
    else:
        bootstrap = os.environ["CONSILIUM_TEST_KAFKA_BOOTSTRAP"]
        databases = real_databases()
    async with databases as urls:
        env = {"CONSILIUM_DATA_DIR": str(data_dir)}
        if bootstrap:
            env["CONSILIUM_KAFKA_BOOTSTRAP"] = bootstrap
        if "content" in urls:
            env["CONSILIUM_CONTENT_DATABASE_URL"] = urls["content"]
        if not content_apart:
            async with run_system(data_dir, urls, events=True, kafka_bootstrap=bootstrap) as system:
                yield Stack(system=system, processes={"all": os.getpid()})
            return
        with content_process(env, data_dir.parent / "content.log") as (process, address):
            await _wait_serving(address, process)
            async with run_system(
                data_dir, urls, content_address=address, events=True, kafka_bootstrap=bootstrap
            ) as system:
                yield Stack(
                    system=system,
                    processes={
                        "gateway+identity+anonymity+audit": os.getpid(),
                        "content": process.pid,
                    },
                )


@contextlib.asynccontextmanager
async def _nothing() -> AsyncIterator[dict[str, str]]:
    yield {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def content_process(
    env: dict[str, str], log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`consilium serve content` on a free loopback port; the process and its address."""
    port = _free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "content", "--port", str(port)],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def _wait_serving(address: str, process: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(60), grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if process.poll() is not None:
                raise RuntimeError("content exited before serving; see content.log")
            with contextlib.suppress(grpc.aio.AioRpcError):
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def real_databases(
    services: tuple[str, ...] = ("identity", "anonymity", "content", "audit"),
) -> AsyncIterator[dict[str, str]]:
    """One fresh PostgreSQL database per service on the server scripts/bench.sh started."""
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(os.environ["CONSILIUM_TEST_POSTGRES_URL"])
    names = {s: f"bench_{s}_{os.getpid()}" for s in services}

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(
            host=base.host, port=base.port, user=base.username,
            password=base.password, database=base.database,
        )  # fmt: skip
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    for name in names.values():
        await admin(f'CREATE DATABASE "{name}"')
    try:
        yield {
            s: base.set(database=n).render_as_string(hide_password=False) for s, n in names.items()
        }
    finally:
        for name in names.values():
            await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
