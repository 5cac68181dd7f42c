"""Entry point of `python -m perf` (see perf.bench)."""

from perf.bench import main

main()
