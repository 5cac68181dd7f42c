"""What the fault matrix breaks: PostgreSQL, Kafka and each component process, by signal.

Every target can die (`kill -9`, then a restart as a supervisor would do it) and be paused
(SIGSTOP, then SIGCONT). PostgreSQL and Kafka are the private servers scripts/postgres.sh and
scripts/kafka.sh run in this run's own directory: killing them never touches another test's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

REPO = Path(__file__).resolve().parents[2]


class Target(Protocol):
    name: str

    def pids(self) -> list[int]:
        """Every process of the target (a server and its workers)."""

    async def restart(self) -> None:
        """Starts it again after a kill; returns once it serves."""


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        found: list[int] = []
        for task in tasks:
            text = (task / "children").read_text().split()
            found.extend(int(child) for child in text)
    except (FileNotFoundError, ProcessLookupError):
        return []
    return found


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants, parents first."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop(0)
        out.append(current)
        todo.extend(_children(current))
    return out


def signal_all(pids: list[int], signum: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


async def kill9(target: Target) -> None:
    """SIGKILL of every process of `target`, and waits until they are gone."""
    pids = target.pids()
    signal_all(pids, signal.SIGKILL)
    async with asyncio.timeout(30):
        while any(_alive(pid) for pid in pids):  # noqa: ASYNC110 - no event tells a death
            await asyncio.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def pause(target: Target) -> list[int]:
    """SIGSTOP of every process of `target`; the pids to SIGCONT later."""
    pids = target.pids()
    signal_all(pids, signal.SIGSTOP)
    return pids


def cont(pids: list[int]) -> None:
    signal_all(pids, signal.SIGCONT)


async def _script(script: str, command: str, run_dir: Path) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", str(REPO / "scripts" / script), command],
        env={**os.environ, "CONSILIUM_RUN_DIR": str(run_dir)},
        capture_output=True,
        timeout=240,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script} {command} failed: {done.stderr.decode()[-2000:]}")


@dataclass
class Postgres:
    """The PostgreSQL server scripts/postgres.sh runs in `run_dir`."""

    run_dir: Path
    name: str = "postgresql"

    def pids(self) -> list[int]:
        pid_file = self.run_dir / "postgres" / "data" / "postmaster.pid"
        postmaster = int(pid_file.read_text().split()[0])
        return _tree(postmaster)

    async def restart(self) -> None:
        await _script("postgres.sh", "resume", self.run_dir)


@dataclass
class Kafka:
    """The Kafka broker scripts/kafka.sh runs in `run_dir`."""

    run_dir: Path
    name: str = "kafka"

    def pids(self) -> list[int]:
        return [int((self.run_dir / "kafka" / "kafka.pid").read_text().strip())]

    async def restart(self) -> None:
        await _script("kafka.sh", "resume", self.run_dir)
