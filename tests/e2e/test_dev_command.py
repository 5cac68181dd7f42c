"""`consilium dev` (what `make dev` runs): starts everything, seeds demo data once, stops on Ctrl-C;
shows its steps and a progress bar, the components' logs in files (or here with --verbose)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from support.ports import free_ports

#: Generous: a loaded two-core machine takes minutes for the first start (argon2 sign-ins).
READY_TIMEOUT = 480
COMPONENTS = ("identity", "anonymity", "content", "audit", "gateway")
#: A line a component logs (`... INFO    [content] consilium.content: post created ...`).
COMPONENT_LINE = re.compile(r"\[(identity|anonymity|content|audit|gateway)\] ")


class DevRun:
    """One `consilium dev` process whose output is collected line by line."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "dev", *args],
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

    def finish(self) -> int:
        """Waits for a run that stops by itself (a component failed)."""
        code = self.process.wait(timeout=READY_TIMEOUT)
        self._reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code

    def steps(self) -> list[str]:
        return [line.removeprefix("==> ") for line in self.lines if line.startswith("==> ")]


def _assert_steps_bar_and_quiet(run: DevRun, data: Path) -> None:
    """One line per step, the seeding bar a line per tenth to 100%, and no component's log
    line on the terminal: they are in <data dir>/logs/<component>.log."""
    steps = run.steps()
    assert steps[0] == f"Consilium dev system (data in {data}; logs in {data / 'logs'})", steps
    assert steps[1].startswith("service keys in") and steps[2].startswith("event topics on")
    assert [s.split(":")[0] for s in steps[3:7]] == [f"migrate {name}" for name in COMPONENTS[:4]]
    for name, line in zip(COMPONENTS, steps[7:12], strict=True):
        assert re.fullmatch(rf"start {name} on 127\.0\.0\.1:\d+ \.\.\. ready in [\d.]+s", line)
    assert steps[12:] == [
        "demo posts, comments, reactions and votes (first start only)",
        "ready",
        "stopping",
        "stopped",
    ], steps
    bar = [line for line in run.lines if line.startswith("    seeding [")]
    percents = [int(m[1]) for line in bar if (m := re.search(r"(\d+)%", line))]
    assert [p // 10 for p in percents] == list(range(1, 11)), bar
    total = re.search(r"\((\d+)/(\d+)\)$", bar[-1])
    assert total is not None and total[1] == total[2], bar[-1]
    assert not [line for line in run.lines if COMPONENT_LINE.search(line)], "component lines"
    assert run.saw(f"    logs       {data / 'logs'}/<component>.log")
    logs = {name: (data / "logs" / f"{name}.log").read_text() for name in COMPONENTS}
    for name in COMPONENTS[:4]:
        assert f"[{name}] consilium.grpc: {name} serving gRPC" in logs[name], logs[name]
        assert f"[{name}] consilium.grpc: {name} stopped" in logs[name], logs[name]
    assert "consilium.content: post created" in logs["content"]
    assert "[gateway] uvicorn.error: Application startup complete" in logs["gateway"]


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


@pytest.mark.timeout(900)  # three starts of five processes (one seeding), on 2 shared cores
def test_dev_starts_seeds_once_and_stops_cleanly(tmp_path: Path) -> None:
    identity, anonymity, content, audit, gateway = free_ports(5)
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
    _assert_steps_bar_and_quiet(first, tmp_path / "data")

    posts = feed["feed"]["nodes"]
    assert len(posts) >= 45
    assert {p["kind"] for p in posts} == {"CASE", "DISCUSSION", "POLL"}
    assert {c["id"] for c in feed["communities"]} == {p["community"]["id"] for p in posts}
    assert any(p["author"]["displayName"] for p in posts), "no IDENTIFIED demo post"
    assert any(p["author"]["displayName"] is None for p in posts)
    assert sum(p["commentCount"] for p in posts) > 50
    assert sum(p["reactions"]["total"] for p in posts) > 0

    started = time.monotonic()
    second = DevRun(env, "--verbose")
    try:
        second.wait_ready()
        # Same data dir, same signing key: the first run's token still reads (physicians only).
        again = _graphql(url, "{ feed(first: 50) { nodes { id } } }", token["token"])
    finally:
        assert second.interrupt() == 0
    assert second.saw("already there"), "the second start must reuse the data"
    assert len(again["feed"]["nodes"]) == len(posts)
    print(f"second start ready in {time.monotonic() - started:.1f}s")
    # --verbose: the components' lines here, as before logs had files.
    assert second.saw("[identity] consilium.grpc: identity serving gRPC")
    assert second.saw("[gateway] uvicorn.error: Application startup complete")
    assert not second.saw("seeding [")

    # A component that cannot start: the run says which, shows its log's end, and stops.
    failing = DevRun({**env, "CONSILIUM_IDENTITY_LOG_LEVEL": "NO-SUCH-LEVEL"})
    assert failing.finish() == 1
    log = tmp_path / "data" / "logs" / "identity.log"
    assert failing.saw("!! identity exited with code 1 while starting"), failing.lines
    assert failing.saw(f"!! the end of {log}:")
    assert failing.saw("   | ValueError: Unknown level: 'NO-SUCH-LEVEL'")
    assert failing.steps()[-1] == "stopped"
