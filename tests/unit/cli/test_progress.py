"""The dev command's progress bar: redrawn on a terminal, a line per tenth anywhere else."""

from __future__ import annotations

import io

from cli.progress import ProgressBar


def test_without_a_terminal_it_prints_a_line_per_tenth_up_to_100_percent() -> None:
    out = io.StringIO()
    bar = ProgressBar("demo data", 49, out=out, tty=False)

    for done in range(50):
        bar.update(done)

    lines = out.getvalue().splitlines()
    assert len(lines) == 10, lines
    assert [line.split("]")[1].split("%")[0].strip() for line in lines] == [
        "10",
        "20",
        "30",
        "40",
        "51",
        "61",
        "71",
        "81",
        "91",
        "100",
    ]
    assert lines[-1] == "    demo data [" + "#" * 30 + "] 100%  (49/49)"
    assert "\r" not in out.getvalue()


def test_on_a_terminal_it_redraws_one_line_and_ends_it_at_100_percent() -> None:
    out = io.StringIO()
    bar = ProgressBar("demo data", 4, out=out, tty=True)

    for done in range(1, 5):
        bar.update(done)

    text = out.getvalue()
    assert text.count("\r") == 4 and text.endswith("100%  (4/4)\n")
    assert text.count("\n") == 1
    assert "\r    demo data [" + "#" * 15 + "." * 15 + "]  50%  (2/4)" in text
