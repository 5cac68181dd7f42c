"""The bench waits for a quiet system between scenarios: a busy process holds it, an idle
one does not, and a process that never goes quiet is named rather than waited on forever."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from perf.procstat import wait_until_idle

#: Spins a core until its stdin closes.
SPIN = "import select, sys\nwhile not select.select([sys.stdin], [], [], 0)[0]:\n    pass\n"
#: Sleeps until its stdin closes.
IDLE = "import sys\nsys.stdin.read()\n"


Child = Callable[[str], "subprocess.Popen[str]"]


@pytest.fixture
def child() -> Iterator[Child]:
    started: list[subprocess.Popen[str]] = []

    def start(code: str) -> subprocess.Popen[str]:
        process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, text=True)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
        process.wait(timeout=10)
        if process.stdin is not None:
            process.stdin.close()


async def test_an_idle_process_is_quiet_at_the_first_look(child: Child) -> None:
    idle = child(IDLE)
    _, busy = await wait_until_idle({"idle": idle.pid}, window=0.2, within=5.0)
    assert busy == []


async def test_a_process_that_keeps_busy_is_named_after_the_bound(child: Child) -> None:
    idle, spinning = child(IDLE), child(SPIN)
    waited, busy = await wait_until_idle(
        {"idle": idle.pid, "spinning": spinning.pid}, window=0.2, within=0.6
    )
    assert busy == ["spinning"]
    assert waited >= 0.6
