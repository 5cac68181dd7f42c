"""The dev system's component processes: started with their logs in files, awaited, stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from plumbing.settings import DEFAULT_PORTS

START_TIMEOUT = 60.0
#: Lines of a component's log shown when it fails.
TAIL_LINES = 25


class StartFailed(RuntimeError):
    """A component exited or never got ready; `name` says which."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def port_of(name: str) -> int:
    return int(os.environ.get(f"CONSILIUM_{name.upper()}_PORT", DEFAULT_PORTS[name]))


def log_path(data_dir: str, name: str) -> Path:
    return Path(data_dir, "logs", f"{name}.log")


@dataclass
class Component:
    """One running component; its output goes to `log` (None: to our own terminal)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path | None
    _file: IO[bytes] | None = field(default=None, repr=False)

    def tail(self, lines: int = TAIL_LINES) -> list[str]:
        """The last lines of its log file (nothing when it logs to the terminal)."""
        if self.log is None or not self.log.exists():
            return []
        with self.log.open(encoding="utf-8", errors="replace") as handle:
            return [line.rstrip("\n") for line in deque(handle, maxlen=lines)]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def start(name: str, data_dir: str, *, verbose: bool) -> Component:
    """Starts `consilium serve NAME`; unless `verbose`, its output goes to its log file
    (truncated: the file holds this run)."""
    env = {
        # Readable lines in a terminal; JSON stays the default everywhere else.
        f"CONSILIUM_{name.upper()}_LOG_FORMAT": "text",
        **os.environ,
        "CONSILIUM_DATA_DIR": data_dir,
    }
    for upstream in ("identity", "anonymity", "content", "audit"):
        address = f"127.0.0.1:{port_of(upstream)}"
        env.setdefault(f"CONSILIUM_GATEWAY_{upstream.upper()}_ADDRESS", address)
    env.setdefault("CONSILIUM_ANONYMITY_IDENTITY_ADDRESS", f"127.0.0.1:{port_of('identity')}")
    env.setdefault("CONSILIUM_AUDIT_IDENTITY_ADDRESS", f"127.0.0.1:{port_of('identity')}")
    log = None if verbose else log_path(data_dir, name)
    file = None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        file = log.open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cli.main", "serve", name, "--port", str(port_of(name))],
        env=env,
        stdout=file,
        stderr=subprocess.STDOUT if file is not None else None,
        stdin=subprocess.DEVNULL,
    )
    return Component(name, process, log, file)


async def wait_grpc_serving(
    address: str, service: str, process: subprocess.Popen[bytes], name: str | None = None
) -> None:
    """Waits until `service` at `address` reports SERVING; StartFailed if the process exits
    or time runs out."""
    name = name or service
    deadline = time.monotonic() + START_TIMEOUT
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            _check_alive(name, process)
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.2)
    raise StartFailed(name, f"{name} did not report SERVING within {START_TIMEOUT:.0f}s")


def wait_http_ready(component: Component, url: str) -> None:
    """Waits until `url` (the gateway's /readyz) answers 200; StartFailed if it exits or time
    runs out."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        _check_alive(component.name, component.process)
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:  # noqa: S310 - our loopback URL
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise StartFailed(
        component.name, f"the gateway was not ready within {START_TIMEOUT:.0f}s ({url})"
    )


def _check_alive(name: str, process: subprocess.Popen[bytes]) -> None:
    code = process.poll()
    if code is not None:
        raise StartFailed(name, f"{name} exited with code {code} while starting")


def stop(components: dict[str, Component]) -> None:
    """SIGTERM in reverse start order (the gateway drains first, identity goes last); a
    component still running after 30 s is killed."""
    for component in reversed(components.values()):
        if component.process.poll() is None:
            component.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for name, component in components.items():
        try:
            component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"    {name} did not stop in time; killing it", flush=True)
            component.process.kill()
            component.process.wait()
        component.close()
