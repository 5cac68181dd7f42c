"""The five components as separate OS processes (`consilium serve X`) on real PostgreSQL and Kafka.

Each has its own database on the given server, its own loopback port and log file, so any one
can be killed, paused and started again while the others keep running, as in a cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import asyncpg
import grpc
import httpx
from faults.targets import REPO
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.engine import make_url
from support.ports import free_port

from plumbing.auth.servicekeys import prepare_dev_service_keys

SERVICES = ("identity", "anonymity", "content", "audit")
ORDER = (*SERVICES, "gateway")
GRPC = {s: f"consilium.{s}.v1.{s.title()}Service" for s in SERVICES}


def said(message: str) -> None:
    """Progress on stderr, with the time, for a reader watching a long run."""
    print(f"faults: {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


@dataclass
class Component:
    """One component process; `restart()` brings it back on the same port."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def spawn(self) -> None:
        if self._log is not None:
            self._log.close()
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", self.name, "--port", str(self.port)],
            env=self.env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def pids(self) -> list[int]:
        assert self.process is not None
        return [self.process.pid]

    async def wait_ready(self, within: float = 300) -> None:
        """Until its health check says SERVING (gRPC) or /readyz answers 200 (the gateway)."""
        assert self.process is not None
        deadline = time.monotonic() + within
        async with contextlib.AsyncExitStack() as stack:
            if self.name in GRPC:
                channel = grpc.aio.insecure_channel(f"127.0.0.1:{self.port}")
                await stack.enter_async_context(channel)
                health = health_pb2_grpc.HealthStub(channel)
            else:
                client = httpx.AsyncClient(timeout=2, trust_env=False)
                await stack.enter_async_context(client)
            while not await self._ready(health if self.name in GRPC else client):
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited; see {self.log_path}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} was not ready in {within}s")
                await asyncio.sleep(0.1)

    async def _ready(self, probe: object) -> bool:
        with contextlib.suppress(grpc.aio.AioRpcError, httpx.HTTPError):
            if isinstance(probe, httpx.AsyncClient):
                reply = await probe.get(f"http://127.0.0.1:{self.port}/readyz")
                return reply.status_code == 200
            request = health_pb2.HealthCheckRequest(service=GRPC[self.name])
            status = await probe.Check(request, timeout=2)  # type: ignore[attr-defined]
            return bool(status.status == health_pb2.HealthCheckResponse.SERVING)
        return False

    async def restart(self) -> None:
        if self.process is not None:
            self.process.wait(timeout=10)  # reaped: it was killed
        self.spawn()
        await self.wait_ready()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()


@dataclass
class Cluster:
    components: dict[str, Component]
    database_urls: dict[str, str]
    gateway_url: str


async def _admin(postgres_url: str, statements: list[str]) -> None:
    url = make_url(postgres_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password,
        database=url.database, timeout=30,
    )  # fmt: skip
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _env(base: dict[str, str], work: Path, urls: dict[str, str], ports: dict[str, int]) -> dict:
    env = {
        **base,
        "PYTHONPATH": str(REPO),
        "CONSILIUM_DATA_DIR": str(work / "data"),
        # Argon2 at test cost: hashing is not under test, the faults are.
        "CONSILIUM_IDENTITY_ARGON2_TIME_COST": "1",
        "CONSILIUM_IDENTITY_ARGON2_MEMORY_KIB": "1024",
        "CONSILIUM_ANONYMITY_IDENTITY_ADDRESS": f"127.0.0.1:{ports['identity']}",
        "CONSILIUM_AUDIT_IDENTITY_ADDRESS": f"127.0.0.1:{ports['identity']}",
    }
    for service in SERVICES:
        env[f"CONSILIUM_{service.upper()}_DATABASE_URL"] = urls[service]
        env[f"CONSILIUM_GATEWAY_{service.upper()}_ADDRESS"] = f"127.0.0.1:{ports[service]}"
    return env


async def _cli(env: dict[str, str], *args: str) -> None:
    command = [sys.executable, "-m", "cli.main", *args]
    await asyncio.to_thread(
        subprocess.run, command, env=env, cwd=REPO, check=True, capture_output=True, timeout=180
    )


@contextlib.asynccontextmanager
async def run_cluster(
    work: Path, postgres_url: str, kafka_bootstrap: str
) -> AsyncIterator[Cluster]:
    """Fresh databases, migrations and topics, then every component started in order."""
    tag = f"{os.getpid()}_{int(time.time())}"
    names = {s: f"faults_{s}_{tag}" for s in SERVICES}
    await _admin(postgres_url, [f'CREATE DATABASE "{n}"' for n in names.values()])
    base = make_url(postgres_url)
    urls = {s: base.set(database=n).render_as_string(hide_password=False) for s, n in names.items()}
    ports = {c: free_port() for c in ORDER}
    env = _env({**os.environ, "CONSILIUM_KAFKA_BOOTSTRAP": kafka_bootstrap}, work, urls, ports)
    (work / "data").mkdir(parents=True, exist_ok=True)
    prepare_dev_service_keys(work / "data")
    said("consilium migrate, consilium topics create")
    await asyncio.gather(_cli(env, "migrate"), _cli(env, "topics", "create"))
    components = {c: Component(c, ports[c], env, work / f"{c}.log") for c in ORDER}
    try:
        said("starting the services")
        services = [components[s] for s in SERVICES]
        for component in services:  # together: each waits for its peers only when called
            component.spawn()
        await asyncio.gather(*(c.wait_ready() for c in services))
        said("starting the gateway")
        components["gateway"].spawn()
        await components["gateway"].wait_ready()
        said("every component serves")
        yield Cluster(components, urls, f"http://127.0.0.1:{ports['gateway']}/graphql")
    finally:
        for component in reversed(components.values()):
            component.stop()
        with contextlib.suppress(Exception):
            await _admin(
                postgres_url,
                [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names.values()],
            )


def grant_role(cluster: Cluster, email: str, role: str) -> None:
    """`consilium grant-role` with identity's own environment (like `kubectl exec`)."""
    subprocess.run(
        [sys.executable, "-m", "cli.main", "grant-role", email, role],
        env=cluster.components["identity"].env, cwd=REPO, check=True, capture_output=True,
        timeout=180,
    )  # fmt: skip
