"""The bench's output: a table for people and one `BENCH {json}` line per figure for machines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Report:
    figures: list[tuple[str, float, str]] = field(default_factory=list)
    #: Print each figure's BENCH line as it is measured, so a run that fails late keeps them.
    stream: bool = False

    def add(self, name: str, value: float, unit: str) -> None:
        self.figures.append((name, value, unit))
        if self.stream:
            print(self.machine_lines()[-1], flush=True)

    def table(self) -> str:
        width = max((len(n) for n, _, _ in self.figures), default=10)
        lines = [f"{'figure':<{width}}  {'value':>10}  unit", "-" * (width + 20)]
        lines += [f"{n:<{width}}  {_fmt(v):>10}  {u}" for n, v, u in self.figures]
        return "\n".join(lines)

    def machine_lines(self) -> list[str]:
        return [
            "BENCH " + json.dumps({"name": n, "value": round(v, 3), "unit": u})
            for n, v, u in self.figures
        ]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
