"""The erasure log: who was erased, kept outside the database so a restore cannot undo it.

Crypto-shredding deletes keys; a database restored from a backup taken before an erasure
brings those keys (and the person's data) back. So a service that erases appends a line to
this log *before* the erasing transaction commits, and replays the whole log at startup,
before it serves: every person listed is erased again.

The log names nobody: each line is a blind index (the service's keyed tag of the person, e.g.
identity's audit tag or anonymity's owner index) and the time, as JSON. It is an append-only
file that must live where database restores do not reach (its own volume, say): restoring it
together with the database would defeat it. Each append is flushed and fsynced; a torn last
line (a crash mid-write) is ignored, and its erasure's transaction never committed either,
or it will be retried by the caller.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path


class ErasureLog:
    """An append-only file of erased people's blind indexes (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = asyncio.Lock()

    @property
    def path(self) -> Path:
        return self._path

    async def record(self, index: str, *, now: datetime | None = None) -> None:
        """Appends `index` durably; returns once it is on disk."""
        if not index or "\n" in index:
            raise ValueError("a blind index is one non-empty line")
        line = json.dumps({"index": index, "erased_at": (now or datetime.now(UTC)).isoformat()})
        async with self._lock:
            await asyncio.to_thread(self._append, line + "\n")

    def _append(self, line: str) -> None:
        new = not self._path.exists()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line.encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if new:  # the file's directory entry must survive a crash too
            directory = os.open(self._path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def indexes(self) -> frozenset[str]:
        """Every blind index recorded so far (none when the log does not exist yet)."""
        try:
            text = self._path.read_text()
        except FileNotFoundError:
            return frozenset()
        found: set[str] = set()
        for line in text.splitlines():
            try:
                index = json.loads(line)["index"]
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line
            if isinstance(index, str) and index:
                found.add(index)
        return frozenset(found)


async def replay(
    log: ErasureLog,
    candidates: Iterable[tuple[str, str]],
    erase: Callable[[str], Awaitable[None]],
) -> int:
    """Erases again every candidate whose blind index is in the log; returns how many.

    `candidates` are (blind index, id) pairs of the people the restored database still
    holds unerased data for; `erase(id)` must be idempotent. Call it before serving.
    """
    erased = log.indexes()
    if not erased:
        return 0
    count = 0
    for index, subject in candidates:
        if index in erased:
            await erase(subject)
            count += 1
    return count
