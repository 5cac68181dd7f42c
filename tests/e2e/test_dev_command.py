"""`consilium dev` (what `make dev` runs): starts everything, seeds demo data once, stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

READY_TIMEOUT = 240


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class DevRun:
    """One `consilium dev` process whose output is collected line by line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "dev"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if "Ctrl-C stops everything" in line:  # the last line of the ready banner
                self.ready.set()

    def wait_ready(self) -> None:
        if not self.ready.wait(READY_TIMEOUT):
            self.process.kill()
            pytest.fail("consilium dev never got ready:\n" + "\n".join(self.lines[-40:]))

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=60)
        self._reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.lines)


def _graphql(url: str, query: str, token: str | None = None) -> Any:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        url, data=json.dumps({"query": query}).encode(), headers=headers
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        body = json.loads(reply.read())
    assert not body.get("errors"), body["errors"]
    return body["data"]


def test_dev_starts_seeds_once_and_stops_cleanly(tmp_path: Path) -> None:
    identity, anonymity, content, audit, gateway = _free_ports(5)
    env = {
        **os.environ,
        "CONSILIUM_DATA_DIR": str(tmp_path / "data"),
        "CONSILIUM_IDENTITY_PORT": str(identity),
        "CONSILIUM_ANONYMITY_PORT": str(anonymity),
        "CONSILIUM_CONTENT_PORT": str(content),
        "CONSILIUM_AUDIT_PORT": str(audit),
        "CONSILIUM_GATEWAY_PORT": str(gateway),
        # The argon2 cost is not under test; the default makes 60 demo sign-ins slow.
        "CONSILIUM_IDENTITY_ARGON2_TIME_COST": "1",
        "CONSILIUM_IDENTITY_ARGON2_MEMORY_KIB": "1024",
    }
    url = f"http://127.0.0.1:{gateway}/graphql"
    first = DevRun(env)
    try:
        first.wait_ready()
        assert first.saw(f"GraphiQL   {url}")
        assert first.saw("admin@demo.consilium")
        token = _graphql(
            url,
            'mutation { login(email: "admin@demo.consilium", password: "consilium-demo")'
            " { token viewer { roles } } }",
        )["login"]
        assert "ADMIN" in token["viewer"]["roles"]
        feed = _graphql(
            url,
            "{ feed(first: 50) { nodes { kind community { id } commentCount"
            " author { displayName } reactions { total } } } communities { id } }",
            token["token"],
        )
    finally:
        code = first.interrupt()
    assert code == 0, "\n".join(first.lines[-20:])
    assert first.saw("==> stopped")

    posts = feed["feed"]["nodes"]
    assert len(posts) >= 45
    assert {p["kind"] for p in posts} == {"CASE", "DISCUSSION", "POLL"}
    assert {c["id"] for c in feed["communities"]} == {p["community"]["id"] for p in posts}
    assert any(p["author"]["displayName"] for p in posts), "no IDENTIFIED demo post"
    assert any(p["author"]["displayName"] is None for p in posts)
    assert sum(p["commentCount"] for p in posts) > 50
    assert sum(p["reactions"]["total"] for p in posts) > 0

    started = time.monotonic()
    second = DevRun(env)
    try:
        second.wait_ready()
        # Same data dir, same signing key: the first run's token still reads (physicians only).
        again = _graphql(url, "{ feed(first: 50) { nodes { id } } }", token["token"])
    finally:
        assert second.interrupt() == 0
    assert second.saw("already there"), "the second start must reuse the data"
    assert len(again["feed"]["nodes"]) == len(posts)
    print(f"second start ready in {time.monotonic() - started:.1f}s")
