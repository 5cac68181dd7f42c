"""CPU time and resident memory of a process, read from /proc (Linux)."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid`, all threads, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may hold spaces: the fields that follow start after its ')'.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 1e6


@dataclass
class CpuMeter:
    """CPU seconds `pid` spends between `start()` and `stop()`."""

    pid: int
    _began: float = 0.0

    def start(self) -> None:
        self._began = cpu_seconds(self.pid)

    def stop(self) -> float:
        return cpu_seconds(self.pid) - self._began


async def wait_until_idle(
    pids: dict[str, int], *, busy: float = 0.05, window: float = 0.5, within: float = 60.0
) -> tuple[float, list[str]]:
    """Waits until each process used under `busy` of a core over one `window` of seconds, so
    a scenario does not inherit the last one's leftovers (events still being applied, a
    checkpoint). Returns the seconds waited and the processes still busy after `within`."""
    began = time.perf_counter()
    while True:
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        await asyncio.sleep(window)
        still = [
            name for name, pid in pids.items() if cpu_seconds(pid) - before[name] >= busy * window
        ]
        waited = time.perf_counter() - began
        if not still or waited >= within:
            return waited, still
