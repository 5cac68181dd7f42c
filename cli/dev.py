"""`consilium dev`: every component as its own process on embedded defaults, stopped together."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cli import components
from plumbing.settings import DEFAULT_PORTS

DEMO_PASSWORD_NOTE = "password consilium-demo (dev seed only)"
_START_TIMEOUT = 60.0


def _say(step: str) -> None:
    print(f"==> {step}", flush=True)


def port_of(name: str) -> int:
    return int(os.environ.get(f"CONSILIUM_{name.upper()}_PORT", DEFAULT_PORTS[name]))


async def wait_grpc_serving(address: str, service: str, process: subprocess.Popen[bytes]) -> None:
    """Waits until `service` reports SERVING, the process dies, or time runs out."""
    deadline = time.monotonic() + _START_TIMEOUT
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{service} exited with code {process.returncode} while starting"
                )
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{service} did not report SERVING within {_START_TIMEOUT:.0f}s")


def wait_http_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    """Waits until `url` answers 200 (the gateway's /readyz), the process dies, or time runs out."""
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited with code {process.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:  # noqa: S310 - our loopback URL
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the gateway was not ready within {_START_TIMEOUT:.0f}s ({url})")


def _prepare(data_dir: str) -> None:
    from cli.topics import create_topics
    from plumbing.auth.servicekeys import prepare_dev_service_keys

    made = prepare_dev_service_keys(Path(data_dir))
    _say(f"service keys in {Path(data_dir, 'keys')}: {len(made)} generated")

    bootstrap = os.environ.get("CONSILIUM_KAFKA_BOOTSTRAP")
    new_topics, _ = asyncio.run(create_topics(bootstrap, Path(data_dir)))
    where = f"Kafka at {bootstrap}" if bootstrap else "the embedded bus"
    _say(f"event topics on {where}: {len(new_topics)} created")
    total = len(components.STATEFUL)
    for index, (name, component) in enumerate(components.STATEFUL.items(), start=1):
        target = component.load_stateful()
        _say(f"[{index}/{total}] {name}: applying migrations")
        asyncio.run(target.migrate())
        created = asyncio.run(target.seed_demo())
        if created:
            print(f"    {created} demo records created", flush=True)


def _start(name: str, data_dir: str) -> subprocess.Popen[bytes]:
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
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cli.main", "serve", name, "--port", str(port_of(name))], env=env
    )


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    # Reverse start order: the gateway drains first, identity goes last.
    for process in reversed(processes.values()):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"    {name} did not stop in time; killing it", flush=True)
            process.kill()
            process.wait()


def run_dev() -> int:
    """Runs the dev system in the foreground; returns the exit code."""
    data_dir = os.environ.get("CONSILIUM_DATA_DIR", ".consilium")
    _say(f"Consilium dev system (data in {os.path.abspath(data_dir)})")
    _prepare(data_dir)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stop_requested = False

    def _request_stop(_signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    try:
        for name, component in components.COMPONENTS.items():
            _say(f"starting {name} on 127.0.0.1:{port_of(name)}")
            process = _start(name, data_dir)
            processes[name] = process
            if component.grpc_service is not None:
                address = f"127.0.0.1:{port_of(name)}"
                asyncio.run(wait_grpc_serving(address, component.grpc_service, process))
            else:
                wait_http_ready(f"http://127.0.0.1:{port_of(name)}/readyz", process)
        from cli.demo import seed_demo_content

        _say("demo posts, comments, reactions and votes (first start only)")
        created = seed_demo_content(f"http://127.0.0.1:{port_of('gateway')}/graphql")
        print(f"    {created} demo posts created" if created else "    already there", flush=True)
        _print_ready()
        while not stop_requested:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"!! {name} exited with code {process.returncode}; stopping", flush=True)
                    return 1
            time.sleep(0.5)
        _say("stopping")
        return 0
    except RuntimeError as exc:
        print(f"!! {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        _stop(processes)
        _say("stopped")


def _print_ready() -> None:
    print("", flush=True)
    _say("ready")
    print(f"    GraphiQL   http://127.0.0.1:{port_of('gateway')}/graphql")
    for name, component in components.STATEFUL.items():
        print(f"    {name:<10} grpc://127.0.0.1:{port_of(name)}  ({component.grpc_service})")
    print("    demo logins: admin@demo.consilium, moderator@demo.consilium,")
    print(f"                 auditor@demo.consilium; {DEMO_PASSWORD_NOTE}")
    print("    Ctrl-C stops everything.", flush=True)
