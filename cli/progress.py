"""What `consilium dev` prints: one line per step, and a progress bar that needs no terminal.

On a terminal the bar redraws in place; anywhere else (a pipe, CI, a log file) it prints a
line each time another tenth is done, so the output stays readable and greppable.
"""

from __future__ import annotations

import sys
from typing import TextIO

BAR_WIDTH = 30


def step(text: str, *, out: TextIO | None = None, end: str = "\n") -> None:
    """One step of the run: `==> text`."""
    stream = out or sys.stdout
    stream.write(f"==> {text}{end}")
    stream.flush()


def note(text: str, *, out: TextIO | None = None) -> None:
    """A detail under the last step, indented."""
    stream = out or sys.stdout
    stream.write(f"    {text}\n")
    stream.flush()


class ProgressBar:
    """`[#########.....]  64%  (384/600)`; call `update(done)` as work completes."""

    def __init__(
        self, label: str, total: int, *, out: TextIO | None = None, tty: bool | None = None
    ) -> None:
        self.label = label
        self.total = max(total, 1)
        self.out = out or sys.stdout
        self.tty = self.out.isatty() if tty is None else tty
        self._tenths = 0  # tenths already printed (not on a terminal)
        self._done = 0

    def update(self, done: int) -> None:
        self._done = min(max(done, 0), self.total)
        if self.tty:
            self.out.write("\r" + self._line())
            if self._done == self.total:
                self.out.write("\n")
            self.out.flush()
            return
        tenths = self._done * 10 // self.total
        if tenths > self._tenths:
            self._tenths = tenths
            self.out.write(self._line() + "\n")
            self.out.flush()

    def _line(self) -> str:
        filled = self._done * BAR_WIDTH // self.total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        percent = self._done * 100 // self.total
        return f"    {self.label} [{bar}] {percent:3d}%  ({self._done}/{self.total})"
