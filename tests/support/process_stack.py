"""Every component as its own `consilium serve` process on loopback, as `consilium dev` runs
them, but on free ports and with the caller's extra environment (e.g. OTLP exporters).

Separate processes, because a tracer provider is per process: in one process every service
would report under one `service.name`. The data dir is prepared first in the test's process
(service keys, topics on the embedded bus, migrations, identity's demo staff accounts).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cli import components
from cli.topics import create_topics
from plumbing.auth.servicekeys import prepare_dev_service_keys
from support.ports import free_ports

#: argon2 at test cost: sign-ins are not under test.
FAST_HASHING = {
    "CONSILIUM_IDENTITY_ARGON2_TIME_COST": "1",
    "CONSILIUM_IDENTITY_ARGON2_MEMORY_KIB": "1024",
}


#: Five interpreters starting at once on a small shared machine take a while.
START_TIMEOUT = 240.0


async def _serving(address: str, service: str, process: subprocess.Popen[bytes]) -> None:
    """Until `service` reports SERVING (grpc.health.v1); fails if the process dies."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            assert process.poll() is None, f"{service} exited with {process.returncode}"
            try:
                request = health_pb2.HealthCheckRequest(service=service)
                reply = await stub.Check(request, timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.2)


async def _ready(url: str, process: subprocess.Popen[bytes]) -> None:
    """Until the gateway's /readyz answers 200; fails if the process dies."""
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            assert process.poll() is None, f"the gateway exited with {process.returncode}"
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)


@dataclass(frozen=True, slots=True)
class Stack:
    data_dir: Path
    ports: Mapping[str, int]

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.ports[name]}"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}/graphql"


def _free_ports(names: list[str]) -> dict[str, int]:
    return dict(zip(names, free_ports(len(names)), strict=True))


def _environment(
    data_dir: Path, ports: Mapping[str, int], extra: Mapping[str, str]
) -> dict[str, str]:
    env = {**os.environ, **FAST_HASHING, "CONSILIUM_DATA_DIR": str(data_dir), **extra}
    env.pop("CONSILIUM_KAFKA_BOOTSTRAP", None)  # the embedded bus under the data dir
    for name in ("identity", "anonymity", "content", "audit"):
        env[f"CONSILIUM_GATEWAY_{name.upper()}_ADDRESS"] = f"127.0.0.1:{ports[name]}"
    env["CONSILIUM_ANONYMITY_IDENTITY_ADDRESS"] = f"127.0.0.1:{ports['identity']}"
    env["CONSILIUM_AUDIT_IDENTITY_ADDRESS"] = f"127.0.0.1:{ports['identity']}"
    for name, port in ports.items():
        env[f"CONSILIUM_{name.upper()}_PORT"] = str(port)
    return env


async def _prepare(data_dir: Path, env: Mapping[str, str]) -> None:
    """Keys, topics, migrations and the demo staff, as `consilium dev` does before starting."""
    prepare_dev_service_keys(data_dir)
    await create_topics(None, data_dir)
    script = (
        "import asyncio\n"
        "from cli import components\n"
        "for component in components.STATEFUL.values():\n"
        "    target = component.load_stateful()\n"
        "    asyncio.run(target.migrate())\n"
        "    asyncio.run(target.seed_demo())\n"
    )
    # Settings come from the environment: a child process, so the test's stays untouched.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, env=dict(env), stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()


@contextlib.asynccontextmanager
async def running_stack(data_dir: Path, extra_env: Mapping[str, str]) -> AsyncIterator[Stack]:
    """All five components serving; SIGTERM to each on exit (spans flushed on shutdown)."""
    names = list(components.COMPONENTS)
    ports = _free_ports(names)
    env = _environment(data_dir, ports, extra_env)
    await _prepare(data_dir, env)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        for name in names:
            with (logs / f"{name}.log").open("wb") as out:
                processes[name] = subprocess.Popen(  # noqa: ASYNC220 - started once, before serving
                    [sys.executable, "-m", "cli.main", "serve", name, "--port", str(ports[name])],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
        waits = [
            _serving(f"127.0.0.1:{ports[name]}", component.grpc_service, processes[name])
            if component.grpc_service is not None
            else _ready(f"http://127.0.0.1:{ports[name]}/readyz", processes[name])
            for name, component in components.COMPONENTS.items()
        ]
        async with asyncio.timeout(START_TIMEOUT):
            await asyncio.gather(*waits)
        yield Stack(data_dir, ports)
    finally:
        for process in reversed(processes.values()):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
