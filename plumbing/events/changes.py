"""Tells the embedded bus's waiting readers that its file may hold new records, without polling it.

An idle consumer used to query every partition of its topics twenty times a second: most of a
dev service's idle CPU. Now a reader reads once, then waits on `BusChanges` until the file
changed. A commit by this process (any `EmbeddedBus` on the same file) wakes it at once;
a commit by another process is seen by `PRAGMA data_version` (it changes whenever another
connection commits), checked on a connection of our own every `fastest` seconds after a
change, backing off to every `slowest` seconds while nothing happens. One watcher serves every
reader of a bus, so a process pays one cheap check per interval, however many consumers it runs.

A change is a hint, never data: a wake-up that finds nothing costs one read, a missed one is
impossible (the version is compared with the last one seen, not sampled at the wait).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import weakref
from pathlib import Path

#: Seconds between two checks right after a change: the cross-process latency under load.
FASTEST = 0.02
#: Seconds between two checks of an idle file: the longest a first event waits for a reader.
#: Each check is a wake-up of the process (≈0.3 ms CPU in a service): at 0.1 s the checks
#: alone cost a consumer's process 2 to 3 ms CPU a second more than at 0.25 s.
SLOWEST = 0.25

#: Every watcher of each file in this process, so that a local commit wakes them all.
_watchers: dict[str, weakref.WeakSet[BusChanges]] = {}


def announce_commit(path: Path) -> None:
    """A transaction of this process on the bus file at `path` committed: wake its readers."""
    for watcher in list(_watchers.get(str(path.resolve()), ())):
        watcher.changed()


class BusChanges:
    """A generation count that grows when the bus file changed, and a wait for it to grow."""

    def __init__(self, path: Path, *, fastest: float = FASTEST, slowest: float = SLOWEST) -> None:
        self._path = str(path.resolve())
        self._fastest = fastest
        self._slowest = slowest
        self.generation = 0
        self._grown = asyncio.Event()
        self._waiting = 0
        self._poller: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Its own connection: `data_version` ignores the commits of the connection asking.
        # It never writes; a check is a read of the shared WAL index, microseconds, so it
        # runs on the loop rather than paying a thread hop.
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self._path, timeout=0, isolation_level=None, check_same_thread=False
        )
        self._version = self._read_version()
        _watchers.setdefault(self._path, weakref.WeakSet()).add(self)

    def _read_version(self) -> int | None:
        if self._conn is None:
            return None
        try:
            row = self._conn.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None  # busy or gone: counts as a change, a reader looks
        return int(row[0])

    def check(self) -> None:
        """Looks at the file now (another process may have committed since the last check)."""
        version = self._read_version()
        if version is None or version != self._version:
            self._version = version
            self._grow()

    def changed(self) -> None:
        """The file changed: every reader waiting wakes and reads."""
        loop = self._loop
        if loop is None:
            self._grow()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._grow()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._grow)

    def _grow(self) -> None:
        self.generation += 1
        grown, self._grown = self._grown, asyncio.Event()
        grown.set()

    async def wait(self, seen: int, deadline: float) -> bool:
        """Waits until `deadline` (`time.monotonic()`) for a generation past `seen`; True if
        there is one."""
        if self.generation != seen:
            return True
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            return False
        self._loop = asyncio.get_running_loop()
        grown = self._grown
        self._waiting += 1
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name="embedded-bus-changes")
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(grown.wait(), timeout)
        finally:
            self._waiting -= 1
        return self.generation != seen

    async def _poll(self) -> None:
        """Checks the file for other processes' commits while anyone waits, then ends."""
        interval = self._fastest
        try:
            while self._waiting:
                await asyncio.sleep(interval)
                before = self.generation
                self.check()
                grew = self.generation != before
                interval = self._fastest if grew else min(interval * 2, self._slowest)
        finally:
            self._poller = None

    async def close(self) -> None:
        watchers = _watchers.get(self._path)
        if watchers is not None:
            watchers.discard(self)
            if not watchers:
                _watchers.pop(self._path, None)
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._grow()  # nobody stays asleep on a closed bus
