"""The fault matrix: under steady load, break one part at a time and measure what it cost.

A row is a target and an action: `kill` (SIGKILL of every process of it, held down, then
restarted as a supervisor would) or `pause` (SIGSTOP, held, then SIGCONT). Per row: requests
sent and failed (by code), time to recover, then, once outboxes and consumers have settled,
writes lost, applied twice or of unknown outcome, outbox rows stuck, consumer lag and
dead-lettered records. `make faults` runs every row (scripts/faults.sh); `make test` a few.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from faults import checks
from faults.components import Cluster, grant_role, run_cluster
from faults.load import VERIFY, Accounts, Load, _call, login, register, seed_posts
from faults.targets import Kafka, Postgres, Target, cont, kill9, pause

#: Every row of `make faults`, in order.
FULL = [
    *((t, a) for a in ("kill", "pause") for t in ("postgresql", "kafka")),
    *((c, a) for c in ("identity", "anonymity", "content", "audit", "gateway")
      for a in ("kill", "pause")),
]  # fmt: skip


def progress(message: str) -> None:
    print(f"faults: {message}", file=sys.stderr, flush=True)


@dataclass
class Timing:
    down: float = 3.0  # how long the part stays dead or paused
    recover_within: float = 90.0
    settle_within: float = 60.0


@dataclass
class Row:
    fault: str
    sent: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    recover: float = 0.0
    writes: checks.Writes = field(default_factory=checks.Writes)
    settled: checks.Settled | None = None
    seconds: float = 0.0

    @property
    def problems(self) -> list[str]:
        found = []
        s = self.settled
        if self.writes.lost:
            found.append(f"{self.writes.lost} accepted writes lost")
        if self.writes.twice:
            found.append(f"{self.writes.twice} writes applied twice")
        if s is None or s.stuck:
            found.append(f"outbox rows stuck: {s.stuck if s else '?'}")
        if s is None or s.lag:
            found.append(f"consumer lag left: {s.lag if s else '?'}")
        if s is None or s.dead:
            found.append(f"dead-lettered: {s.dead if s else '?'}")
        if self.failed["INTERNAL_SERVER_ERROR"]:
            found.append("an outage answered INTERNAL_SERVER_ERROR")
        if self.recover < 0:
            found.append("never recovered")
        return found


async def _accounts(cluster: Cluster, members: int = 3) -> Accounts:
    url = cluster.gateway_url
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        _, staff_email = await register(client, url)
        for role in ("ADMIN", "AUDITOR"):  # one at a time: each rewrites the account's roles
            await asyncio.to_thread(grant_role, cluster, staff_email, role)
        staff = await login(client, url, staff_email)
        tokens = []
        for _ in range(members):
            user_id, email = await register(client, url)
            await _call(client, url, VERIFY, {"u": user_id}, staff)
            tokens.append(await login(client, url, email))
        posts = await seed_posts(client, url, tokens)
    return Accounts(members=tokens, staff=staff, posts=posts)


async def _until(condition: object, within: float) -> bool:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _recovery(outcomes: list, fault_end: float) -> float:
    """Seconds from the fault's end until every kind of request that failed succeeded again
    (the end of its first success that began after its last failure); -1 if one never did."""
    worst = 0.0
    for kind in {o.kind for o in outcomes if not o.ok}:
        last_failure = max(o.began for o in outcomes if o.kind == kind and not o.ok)
        wins = [o.ended for o in outcomes if o.kind == kind and o.ok and o.began > last_failure]
        if not wins:
            return -1.0
        worst = max(worst, min(wins) - fault_end)
    return max(worst, 0.0)


def _recovered(outcomes: list, fault_end: float) -> bool:
    return bool(outcomes) and outcomes[-1].began > fault_end and _recovery(outcomes, 0) >= 0


async def run_row(
    cluster: Cluster, accounts: Accounts, target: Target, action: str, bootstrap: str,
    timing: Timing,
) -> Row:  # fmt: skip
    began = time.monotonic()
    row = Row(f"{action} {target.name}")
    load = Load(cluster.gateway_url, accounts, tag=f"{uuid.uuid4().hex[:6]}-{target.name}-{action}")
    dead_before = await checks.dead_letters(bootstrap)
    stop = asyncio.Event()
    task = asyncio.create_task(load.run(stop))
    try:
        # Steady load first: the fault hits a system that is serving.
        await _until(lambda: sum(o.ok for o in load.outcomes) >= 8, 60)
        if action == "kill":
            await kill9(target)
            await asyncio.sleep(timing.down)  # the outage's length is the experiment's setting
            fault_end = time.monotonic()
            await target.restart()
        else:
            paused = pause(target)
            await asyncio.sleep(timing.down)
            fault_end = time.monotonic()
            cont(paused)
        # Then until every kind of request works again, plus a few more of steady load.
        await _until(lambda: _recovered(load.outcomes, fault_end), timing.recover_within)
        mark = len(load.outcomes)
        await _until(lambda: len(load.outcomes) >= mark + 8, 30)
    finally:
        stop.set()
        await task
    outcomes = load.outcomes
    row.sent = len(outcomes)
    row.failed = Counter(o.code for o in outcomes if not o.ok)
    row.recover = _recovery(outcomes, fault_end)
    row.settled = await checks.settle(cluster.database_urls, bootstrap, timing.settle_within)
    row.settled.dead -= dead_before  # a shared broker's dead-letter topics hold others' records
    row.writes = await checks.check_writes(
        cluster.database_urls["content"], cluster.gateway_url, accounts.members[0], outcomes,
        f"fault {load.tag} ",
    )  # fmt: skip
    row.seconds = time.monotonic() - began
    return row


async def run_matrix(
    rows: list[tuple[str, str]], *, work: Path, postgres_url: str, bootstrap: str,
    postgres_run_dir: Path, kafka_run_dir: Path | None, timing: Timing | None = None,
    report: object = print,
) -> list[Row]:  # fmt: skip
    """Starts the cluster and runs `rows` in turn. PostgreSQL (and Kafka, with `kafka_run_dir`)
    are the servers scripts/postgres.sh (kafka.sh) run in those dirs: the ones rows may kill."""
    timing = timing or Timing()
    results = []
    began = time.monotonic()
    async with run_cluster(work, postgres_url, bootstrap) as cluster:
        accounts = await _accounts(cluster)
        targets: dict[str, Target] = {
            "postgresql": Postgres(postgres_run_dir),
            **cluster.components,
        }
        if kafka_run_dir is not None:
            targets["kafka"] = Kafka(kafka_run_dir)
        # Whatever the groups had to catch up on (a shared broker's older events) is read
        # before the first fault, so that each row starts from quiet.
        await checks.settle(cluster.database_urls, bootstrap, timing.settle_within)
        progress(f"ready for faults after {time.monotonic() - began:.1f} s")
        for name, action in rows:
            row = await run_row(cluster, accounts, targets[name], action, bootstrap, timing)
            report(format_row(row))  # type: ignore[operator]
            results.append(row)
    return results


HEADER = (
    f"{'fault':<16} {'sent':>5} {'failed (codes)':<34} {'recover s':>9} {'writes ok':>9} "
    f"{'lost':>4} {'twice':>5} {'unknown':>7} {'stuck':>5} {'lag':>4} {'dlq':>4} {'settle s':>8}"
)


def format_row(row: Row) -> str:
    codes = ", ".join(f"{c} {n}" for c, n in row.failed.most_common()) or "-"
    s = row.settled or checks.Settled(-1, -1, -1, 0)
    recover = "never" if row.recover < 0 else f"{row.recover:.1f}"
    return (
        f"{row.fault:<16} {row.sent:>5} {codes:<34} {recover:>9} {row.writes.accepted:>9} "
        f"{row.writes.lost:>4} {row.writes.twice:>5} {row.writes.unknown:>7} {s.stuck:>5} "
        f"{s.lag:>4} {s.dead:>4} {s.seconds:>8.1f}"
    )
