"""The fault matrix's short version for `make test`: three rows, the zero-loss assertions.

Every component runs as its own process over real gRPC, on a private PostgreSQL started for
this test (it is killed and paused, which the shared test server must never be) and the
shared Kafka (only read from and written to: the Kafka rows run in `make faults`). That broker
must be the run's own, as `make test` starts it: the services' consumer groups have fixed
names, so other processes using a broker with the same groups show up as lag and dead letters.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults.matrix import Timing, format_row, run_matrix
from faults.targets import REPO

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]
ROWS = [("content", "kill"), ("postgresql", "pause"), ("postgresql", "kill")]
#: What an outage may answer: retryable codes only, never an internal error.
OUTAGE_CODES = {"UNAVAILABLE"}


def _postgres(command: str, run_dir: Path) -> str:
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "postgres.sh"), command],
        # Production's durability: a killed server keeps every commit it acknowledged.
        env={
            **os.environ,
            "CONSILIUM_RUN_DIR": str(run_dir),
            "CONSILIUM_PG_SYNCHRONOUS_COMMIT": "on",
        },
        capture_output=True,
        timeout=120,
        check=True,
    )
    return done.stdout.decode()


@pytest.fixture
def private_postgres() -> Iterator[tuple[Path, str]]:
    """A PostgreSQL of this test's own, in a run dir the postgres user can reach."""
    run_dir = Path(tempfile.mkdtemp(prefix="consilium-faults-pg-"))
    run_dir.chmod(0o755)
    try:
        line = _postgres("start", run_dir).strip().splitlines()[-1]
        yield run_dir, line.split("=", 1)[1]
    finally:
        _postgres("stop", run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.mark.timeout(600)  # five processes start on two shared cores
async def test_kill_and_pause_lose_nothing_and_apply_nothing_twice(
    tmp_path: Path, private_postgres: tuple[Path, str], kafka_bootstrap: str
) -> None:
    run_dir, postgres_url = private_postgres
    rows = await run_matrix(
        ROWS,
        work=tmp_path,
        postgres_url=postgres_url,
        bootstrap=kafka_bootstrap,
        postgres_run_dir=run_dir,
        kafka_run_dir=None,
        timing=Timing(down=2.0),
    )
    assert [r.fault for r in rows] == [f"{a} {t}" for t, a in ROWS]
    for row in rows:
        assert row.problems == [], format_row(row)
        assert set(row.failed) <= OUTAGE_CODES, format_row(row)
        assert row.writes.accepted > 0, f"no write went through: {format_row(row)}"
    killed_content = rows[0]
    assert killed_content.failed["UNAVAILABLE"] > 0, "the fault never met the load"
