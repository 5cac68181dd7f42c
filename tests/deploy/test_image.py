"""The one image, run for real with `buildah run --isolation chroot`: the CLI and a health check."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("CONSILIUM_IMAGE", "localhost/consilium:dev")
UID = "10001"


def _image_exists() -> bool:
    if shutil.which("buildah") is None:
        return False
    found = subprocess.run(
        ["buildah", "inspect", "--type", "image", IMAGE], capture_output=True, check=False
    )
    return found.returncode == 0


@pytest.fixture(scope="module")
def image() -> str:
    """The image of this checkout: scripts/image.sh (re)builds it, about 15 s when warm, so the
    test never runs a stale image; it installs buildah with apt when run as root."""
    if shutil.which("buildah") is None and os.geteuid() != 0:
        pytest.skip("no buildah and not root: run `make image` once as root")
    subprocess.run(["bash", str(ROOT / "scripts/image.sh")], check=True, timeout=1500)
    assert _image_exists(), f"scripts/image.sh ran but {IMAGE} is not in the local store"
    return IMAGE


@pytest.fixture
def container(image: str) -> Iterator[str]:
    """A working container of the image, removed afterwards."""
    made = subprocess.run(
        ["buildah", "from", "--pull=never", "--quiet", image],
        capture_output=True,
        text=True,
        check=True,
    )
    name = made.stdout.strip()
    try:
        yield name
    finally:
        subprocess.run(["buildah", "rm", name], capture_output=True, check=False)


def _run(container: str, *command: str, env: dict[str, str] | None = None) -> str:
    args = ["buildah", "run", "--isolation", "chroot"]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    done = subprocess.run(
        [*args, container, "--", *command], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_cli_answers_as_the_non_root_user(container: str) -> None:
    help_text = _run(container, "consilium", "--help")
    for command in ("serve", "migrate", "topics"):
        assert command in help_text
    assert _run(container, "id", "-u").strip() == UID


def test_the_image_holds_no_compiler_and_no_pip(container: str) -> None:
    found = _run(
        container, "sh", "-c", "for c in gcc cc c++ clang pip pip3; do command -v $c; done; true"
    )
    assert found.strip() == ""


def _service_keys() -> tuple[str, str]:
    """Content's own service key and the gateway's public key, one line each (`\\n` escapes)."""
    own = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    gateway = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return own.decode().replace("\n", "\\n"), gateway.decode().replace("\n", "\\n")


def _wait_serving(port: int, service: str, timeout: float) -> int | None:
    """The last health status seen, following Health.Watch until SERVING or the deadline."""
    last = None
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        replies = stub.Watch(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout, wait_for_ready=True
        )
        try:
            for reply in replies:
                last = int(reply.status)
                if last == health_pb2.HealthCheckResponse.SERVING:
                    break
        except grpc.RpcError:
            pass
        finally:
            replies.cancel()
    return last


def test_a_component_migrates_serves_and_reports_serving(container: str, tmp_path: Path) -> None:
    """Content, as the image runs it (production mode, its service key and the gateway's pinned
    public key in the environment, SQLite in the data dir), answers the
    standard gRPC health check from outside the container (chroot isolation shares the host
    network). Stopping goes through buildah, which kills its child, so the clean SIGTERM drain is
    tested where the process runs directly (tests/integration), not here."""
    port = free_port()
    own_key, gateway_key = _service_keys()
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [
            "buildah", "run", "--isolation", "chroot",
            "--env", "CONSILIUM_CONTENT_HOST=127.0.0.1",
            "--env", f"CONSILIUM_CONTENT_PORT={port}",
            "--env", f"CONSILIUM_CONTENT_SERVICE_KEY={own_key}",
            "--env", f"CONSILIUM_GATEWAY_SERVICE_PUBLIC_KEY={gateway_key}",
            container, "--",
            "sh", "-c", "consilium migrate content && consilium topics create >/dev/null"
            " && exec consilium serve content",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        status = _wait_serving(port, "consilium.content.v1.ContentService", timeout=90)
        output = (tmp_path / "server.log").read_text(errors="replace")
        assert status == health_pb2.HealthCheckResponse.SERVING, output
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()
