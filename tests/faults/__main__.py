"""`python -m faults` (scripts/faults.sh, `make faults`): the whole fault matrix, as a table.

Needs the servers scripts/faults.sh starts in its own run dir: CONSILIUM_RUN_DIR,
CONSILIUM_TEST_POSTGRES_URL and CONSILIUM_TEST_KAFKA_BOOTSTRAP. Exits 1 when any row lost,
doubled or left behind anything, or answered an outage as an internal error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from faults.matrix import FULL, HEADER, Timing, run_matrix


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__)
    parser.add_argument("--rows", default="all", help="e.g. 'kill content,pause postgresql'")
    parser.add_argument("--down", type=float, default=3.0, help="seconds each fault lasts")
    args = parser.parse_args()
    rows = FULL
    if args.rows != "all":
        wanted = [tuple(reversed(r.strip().split(" ", 1))) for r in args.rows.split(",")]
        rows = [r for r in FULL if r in wanted]
    began = time.monotonic()
    print(HEADER, flush=True)
    # Component logs go to the run dir, which scripts/faults.sh keeps when the run fails.
    run_dir = Path(os.environ["CONSILIUM_RUN_DIR"])
    results = asyncio.run(
        run_matrix(
            rows,
            work=run_dir / "components",
            postgres_url=os.environ["CONSILIUM_TEST_POSTGRES_URL"],
            bootstrap=os.environ["CONSILIUM_TEST_KAFKA_BOOTSTRAP"],
            postgres_run_dir=run_dir,
            kafka_run_dir=run_dir,
            timing=Timing(down=args.down),
            report=lambda line: print(line, flush=True),
        )
    )
    problems = [f"{r.fault}: {p}" for r in results for p in r.problems]
    print(f"\n{len(results)} rows in {time.monotonic() - began:.0f} s", flush=True)
    for problem in problems:
        print(f"FAILED {problem}", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
