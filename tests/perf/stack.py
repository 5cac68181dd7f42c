"""The system under bench: each service its own `consilium serve` process, the gateway in this one.

Identity, anonymity, content and audit run apart (as `consilium dev` and a cluster run them),
so each one's CPU and RSS are its own; the gateway runs in the bench's process, where every
upstream call it makes is counted at its client layer (`invoke`). A smoke run keeps everything
in this process (tests/support/system.py): four interpreters cost seconds it cannot spare.
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
import httpx
import uvicorn
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support.ports import free_port
from support.system import System, run_system

from cli.topics import create_topics
from gateway.app import create_app
from gateway.caches import TTLCache
from gateway.clients import anonymity, audit, content, identity
from gateway.serve import uvicorn_config
from gateway.settings import GatewaySettings
from plumbing import db
from plumbing.auth.servicekeys import prepare_dev_service_keys
from services.identity.adapters.store import SqlIdentityStore
from services.identity.settings import IdentitySettings

#: The services, in start order; each is a process of its own outside a smoke run.
SERVICES = ("identity", "anonymity", "content", "audit")
#: argon2 at bench cost: sign-ins are seeded, not measured.
FAST_HASHING = {
    "CONSILIUM_IDENTITY_ARGON2_TIME_COST": "1",
    "CONSILIUM_IDENTITY_ARGON2_MEMORY_KIB": "64",
    "CONSILIUM_IDENTITY_ARGON2_PARALLELISM": "1",
}


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
async def stack(data_dir: Path, backend: str, *, apart: bool = True) -> AsyncIterator[Stack]:
    """The whole system with its events running, on SQLite + embedded bus or PostgreSQL +
    Kafka (the servers scripts/bench.sh started). Without `apart`, every service runs in
    this process too, and the one process is named "all"."""
    if backend == "dev":
        bootstrap = None
        databases: contextlib.AbstractAsyncContextManager[dict[str, str]] = _nothing()
    else:
        bootstrap = os.environ["CONSILIUM_TEST_KAFKA_BOOTSTRAP"]
        databases = real_databases()
    async with databases as urls:
        if not apart:
            async with run_system(data_dir, urls, events=True, kafka_bootstrap=bootstrap) as system:
                yield Stack(system=system, processes={"all": os.getpid()})
            return
        prepare_dev_service_keys(data_dir)
        await create_topics(bootstrap, data_dir)
        ports = {name: free_port() for name in SERVICES}
        env = _environment(data_dir, ports, urls, bootstrap)
        await _migrate(env)
        with service_processes(env, ports, data_dir.parent / "logs") as processes:
            async with asyncio.timeout(240):  # four interpreters at once on two busy cores
                await asyncio.gather(
                    *(_wait_serving(f"127.0.0.1:{ports[n]}", p, n) for n, p in processes.items())
                )
            settings = GatewaySettings(
                data_dir=data_dir,
                kafka_bootstrap=bootstrap,
                identity_address=f"127.0.0.1:{ports['identity']}",
                anonymity_address=f"127.0.0.1:{ports['anonymity']}",
                content_address=f"127.0.0.1:{ports['content']}",
                audit_address=f"127.0.0.1:{ports['audit']}",
                writes_per_minute=1_000_000,
                anonymous_requests_per_minute=1_000_000,
            )
            identity_url = (
                urls.get("identity") or IdentitySettings(data_dir=data_dir).resolved_database_url
            )
            async with (
                gateway(settings) as url,
                _accounts_store(identity_url) as store,
                httpx.AsyncClient(timeout=30) as http,
            ):
                system = System(
                    data_dir=data_dir,
                    gateway_url=url,
                    http=http,
                    identity=store,
                    anonymity=None,
                    content=None,
                    kafka_bootstrap=bootstrap,
                )
                pids = {name: process.pid for name, process in processes.items()}
                yield Stack(system=system, processes={"gateway": os.getpid(), **pids})


@dataclass
class _Accounts:
    """What `System.account()` needs of identity: its store, over its database directly."""

    store: SqlIdentityStore


@contextlib.asynccontextmanager
async def _accounts_store(url: str) -> AsyncIterator[_Accounts]:
    engine = db.create_engine(url)
    try:
        yield _Accounts(SqlIdentityStore(engine))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def gateway(settings: GatewaySettings) -> AsyncIterator[str]:
    """The gateway's app on a free loopback port in this process; its GraphQL URL."""
    server = uvicorn.Server(uvicorn_config(create_app(settings), settings))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(30):
            while not server.started:  # uvicorn offers no started event
                if task.done():
                    await task  # its failure, not a timeout
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/graphql"
    finally:
        server.should_exit = True
        await task
        sock.close()


def _environment(
    data_dir: Path, ports: dict[str, int], urls: dict[str, str], bootstrap: str | None
) -> dict[str, str]:
    """The services' environment: this data dir, loopback peers, the bench's databases."""
    env = {
        **os.environ,
        **FAST_HASHING,
        "CONSILIUM_DATA_DIR": str(data_dir),
        "MALLOC_ARENA_MAX": "2",  # as the image sets it (deploy/image/Containerfile)
    }
    env.pop("CONSILIUM_KAFKA_BOOTSTRAP", None)
    if bootstrap:
        env["CONSILIUM_KAFKA_BOOTSTRAP"] = bootstrap
    for name in ("anonymity", "audit"):
        env[f"CONSILIUM_{name.upper()}_IDENTITY_ADDRESS"] = f"127.0.0.1:{ports['identity']}"
    for name, url in urls.items():
        env[f"CONSILIUM_{name.upper()}_DATABASE_URL"] = url
    return env


@contextlib.asynccontextmanager
async def _nothing() -> AsyncIterator[dict[str, str]]:
    yield {}


async def _migrate(env: dict[str, str]) -> None:
    """`consilium migrate` before the services start, as `consilium dev` and the chart's
    migration job do: a service starting on a database at head never imports Alembic."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "migrate", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    if await process.wait() != 0:
        raise RuntimeError("consilium migrate failed")


@contextlib.contextmanager
def service_processes(
    env: dict[str, str], ports: dict[str, int], logs: Path
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """`consilium serve <service>` for each service on its port, its output in `logs`;
    SIGTERM to each on exit (in reverse order), then SIGKILL to any that hangs."""
    logs.mkdir(parents=True, exist_ok=True)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in SERVICES:
            with (logs / f"{name}.log").open("wb") as output:
                processes[name] = subprocess.Popen(
                    [sys.executable, "-m", "cli.main", "serve", name, "--port", str(ports[name])],
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
        yield processes
    finally:
        for process in reversed(processes.values()):
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


async def _wait_serving(address: str, process: subprocess.Popen[bytes], name: str) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited before serving; see logs/{name}.log")
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
