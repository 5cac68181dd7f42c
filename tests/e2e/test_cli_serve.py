"""`consilium serve identity` as a real process: health, reflection, graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from support.ports import free_port

IDENTITY = "consilium.identity.v1.IdentityService"


@pytest.fixture
def identity_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = {
        **os.environ,
        "CONSILIUM_DATA_DIR": str(tmp_path),
        "CONSILIUM_IDENTITY_LOG_FORMAT": "json",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "identity", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield process, f"127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


async def wait_serving(address: str, process: subprocess.Popen[bytes]) -> int:
    """Polls grpc.health.v1 until SERVING; returns the status, fails if the process dies."""
    deadline = time.monotonic() + 60
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=IDENTITY), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return int(reply.status)
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail("identity never reported SERVING")


async def test_serve_identity_is_healthy_and_reflects(
    identity_process: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, address = identity_process
    assert await wait_serving(address, process) == health_pb2.HealthCheckResponse.SERVING
    async with grpc.aio.insecure_channel(address) as channel:
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        replies = [r async for r in reflection.ServerReflectionInfo(iter([request]))]
        services = {s.name for s in replies[0].list_services_response.service}
        assert IDENTITY in services
        assert "grpc.health.v1.Health" in services
        overall = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert overall.status == health_pb2.HealthCheckResponse.SERVING

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    _, stderr = process.communicate(timeout=10)
    log = stderr.decode()
    assert "received a stop signal" in log
    assert "identity stopped" in log
