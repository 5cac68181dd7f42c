"""`make bench`: the system on real gRPC, a fixed data set, bounded load, and the figures.

Usage: PYTHONPATH=tests python -m perf [--smoke] [--backend dev|real]
Each service runs as its own process, the gateway in this one (perf.stack); CPU and RSS are
read per process from /proc. The load runs in a child process
(perf.load), so the client's CPU is billed to neither. Upstream calls are counted at the
gateway's client layer (every gRPC call it makes goes through `invoke`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from perf import events as event_bench
from perf.ceiling import ceiling_app
from perf.load import percentile, run_fanout, run_load
from perf.procstat import CpuMeter, rss_mb, wait_until_idle
from perf.queries import CREATE_POST, FEED, POST_ADDED, POST_PAGE, SEARCH
from perf.report import Report
from perf.seed import FULL, SMOKE, Seeded, post_input, seed
from perf.stack import counting_cache_lookups, counting_upstream_calls, stack
from support.system import System

_TESTS = Path(__file__).resolve().parent.parent


async def run_child(job: dict[str, Any]) -> dict[str, Any]:
    """Runs perf.load with `job` in a child process; its JSON result."""
    env = {**os.environ, "PYTHONPATH": f"{_TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "perf.load",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    out, _ = await child.communicate(json.dumps(job).encode())
    if child.returncode != 0:
        raise RuntimeError(f"the load client failed ({child.returncode})")
    result: dict[str, Any] = json.loads(out)
    return result


class Bench:
    def __init__(self, report: Report, smoke: bool, processes: dict[str, int]) -> None:
        self.report = report
        self.smoke = smoke
        self.processes = processes  # name -> pid of each process of the system
        self.seconds = 1.0 if smoke else 10.0
        self.requests = 4 if smoke else 5_000
        self.connections = 2 if smoke else 20
        self.cpu_ms: dict[str, float] = {}

    async def settle(self, name: str) -> None:
        """Waits for the system to go quiet before scenario `name`: the figures of one
        scenario must not carry the leftovers of the one before (a smoke run does not wait)."""
        if self.smoke:
            return
        waited, busy = await wait_until_idle(self.processes)
        if busy:
            print(f"bench: {name} starts with {', '.join(busy)} still busy", file=sys.stderr)
        elif waited > 1.0:
            print(
                f"bench: {name} waited {waited:.1f} s for the system to go quiet", file=sys.stderr
            )

    async def client(self, job: dict[str, Any]) -> dict[str, Any]:
        """The load client: a child process, or in this process for a smoke run (which
        proves the harness, not the figures, and cannot spare a second per interpreter)."""
        if not self.smoke:
            return await run_child(job)
        return await (run_fanout(job) if job["kind"] == "fanout" else run_load(job))

    async def load(
        self,
        name: str,
        url: str,
        bodies: list[dict[str, Any]],
        token: str,
        *,
        ceiling: bool = False,
        connections: int | None = None,
    ) -> float:
        """Runs one scenario, adds its figures, returns its req/s (its CPU ms per request by
        process are left in `self.cpu_ms`)."""
        job = {
            "kind": "load",
            "url": url,
            "bodies": bodies,
            "headers": {"authorization": f"Bearer {token}"},
            "connections": connections or self.connections,
            "requests": self.requests,
            "seconds": self.seconds,
        }
        await self.settle(name)
        # The ceiling runs in the bench's own process while the system idles.
        processes = {"ceiling": os.getpid()} if ceiling else self.processes
        meters = {p: CpuMeter(pid) for p, pid in processes.items()}
        with counting_upstream_calls() as calls, counting_cache_lookups() as lookups:
            for meter in meters.values():
                meter.start()
            result = await self.client(job)
            cpu = {p: meter.stop() for p, meter in meters.items()}
        done, latencies = result["requests"], result["latencies"]
        add = self.report.add
        # Failures are a figure, not a crash: under load they are part of what is measured.
        add(f"{name}.failed", result["failures"], f"of {done} requests")
        rate = float((done - result["failures"]) / result["seconds"])
        add(f"{name}.req_per_s", rate, "req/s")
        for share in (0.50, 0.95, 0.99):
            add(f"{name}.p{round(share * 100)}", percentile(latencies, share) * 1000, "ms")
        if latencies:
            tail = percentile(latencies, 0.99) / max(percentile(latencies, 0.5), 1e-9)
            add(f"{name}.p99_over_p50", tail, "x")
        self.cpu_ms = {p: seconds * 1000 / max(done, 1) for p, seconds in cpu.items()}
        for process, ms in self.cpu_ms.items():
            add(f"{name}.cpu_per_req.{process}", ms, "ms CPU")
        if not ceiling:
            add(f"{name}.upstream_calls_per_req", sum(calls.values()) / max(done, 1), "calls")
            # The shared caches' effect: persona and community calls left, and the hit rate.
            for rpc in ("BatchDescribeAliases", "BatchGetCommunities"):
                add(f"{name}.calls_per_req.{rpc}", calls[rpc] / max(done, 1), "calls")
            if lookups:
                hits = 100 * lookups["hit"] / lookups.total()
                add(f"{name}.cache_hit_rate", hits, "% of lookups")
        return rate

    async def ceiling(
        self, feed_data: dict[str, Any], token: str, *, leaf_fields: bool = False
    ) -> float:
        """The feed from a bare Strawberry app in this process, while the system idles
        (`leaf_fields`: the same app executed by the gateway's executor)."""
        app = ceiling_app(feed_data, leaf_fields=leaf_fields)
        server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            async with asyncio.timeout(30):
                while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
                    await asyncio.sleep(0.02)
            url = f"http://127.0.0.1:{sock.getsockname()[1]}/graphql"
            name = "ceiling.leaf_executor.feed" if leaf_fields else "ceiling.feed"
            return await self.load(name, url, [{"query": FEED}], token, ceiling=True)
        finally:
            server.should_exit = True
            await task
            sock.close()

    def memory(self, when: str) -> None:
        for process, pid in self.processes.items():
            self.report.add(f"rss.{when}.{process}", rss_mb(pid), "MB")

    async def fanout(self, system: System, seeded: Seeded, subscribers: int) -> None:
        if not _descriptors_for(subscribers):
            print(f"bench: skipping {subscribers} subscribers: ulimit -n too low", file=sys.stderr)
            return
        job = {
            "kind": "fanout",
            "url": system.gateway_url,
            "token": seeded.reader,
            "headers": {"authorization": f"Bearer {seeded.writers[0]}"},
            "query": POST_ADDED,
            "create": {"query": CREATE_POST, "variables": {"input": post_input(0)}},
            "subscribers": subscribers,
            "posts": 1 if self.smoke else 5,
            # Bounds the warm-up (every socket live); 1,000 sockets take a while to open.
            "seconds": 60 + subscribers // 10,
        }
        name = f"postAdded.{subscribers}_subscribers"
        await self.settle(name)
        with _gc_pauses() as paused:
            result = await self.client(job)
        # The gateway runs in this process: the collector's pauses (over the whole run:
        # connecting, warm-up and the timed posts) delay the deliveries they fall on.
        self.report.add(f"{name}.gc_pauses", paused["seconds"] * 1000, "ms in the gateway")
        self.report.add(f"{name}.gc_full_passes", paused["full"], "generation-2 collections")
        latencies = result["latencies"]
        self.report.add(f"{name}.p50", percentile(latencies, 0.5) * 1000, "ms")
        self.report.add(f"{name}.p99", percentile(latencies, 0.99) * 1000, "ms")
        self.report.add(f"{name}.missed", result["missed"], "deliveries")
        self.report.add(f"{name}.errored", result["errored"], "deliveries with errors")
        self.report.add(f"{name}.create_errors", result["create_errors"], "failed createPost")


@contextlib.contextmanager
def _gc_pauses() -> Iterator[dict[str, float]]:
    """Time spent in this process's garbage collector while the block runs."""
    paused = {"seconds": 0.0, "full": 0.0}
    began = [0.0]

    def track(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
            return
        paused["seconds"] += time.perf_counter() - began[0]
        paused["full"] += info["generation"] == 2

    gc.callbacks.append(track)
    try:
        yield paused
    finally:
        gc.callbacks.remove(track)


def _descriptors_for(sockets: int) -> bool:
    """Raises the soft limit of open files (inherited by the load client) so both ends of
    `sockets` WebSockets fit in this process, with room for the rest; False if they cannot."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = sockets + 512
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            return False
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return True


def _phase(what: str, began: list[float]) -> None:
    """Progress on stderr, so a slow phase shows where the time goes."""
    now = time.perf_counter()
    print(f"bench: {what} ({now - began[0]:.1f} s)", file=sys.stderr, flush=True)
    began[0] = now


#: Live subscribers on one gateway per fan-out run (issue 12's target is at 1,000; each one
#: is a WebSocket of the load client, so the run needs that many descriptors: see ulimit -n).
FANOUT_SUBSCRIBERS = (10, 100, 400, 1000)

#: What `--only` can pick; every one of them runs when it is not given.
SCENARIOS = ("feed", "post_page", "search", "create_post", "fanout", "events")


async def run(
    smoke: bool, backend: str, *, stream: bool = False, only: frozenset[str] = frozenset()
) -> Report:
    report = Report(stream=stream)
    wanted = only or frozenset(SCENARIOS)
    clock = [time.perf_counter()]
    with tempfile.TemporaryDirectory(prefix="consilium-bench-") as tmp:
        if wanted == {"events"}:  # needs no system: its own outbox, relay and consumer
            await event_bench.run(report, Path(tmp) / "events", backend, smoke)
            return report
        async with stack(Path(tmp) / "data", backend, apart=not smoke) as running:
            system = running.system
            bench = Bench(report, smoke, running.processes)
            bench.memory("idle")
            _phase("system started", clock)
            seeded = await seed(system, SMOKE if smoke else FULL)
            _phase("data seeded", clock)
            if "feed" in wanted:
                feed = await system.graphql(FEED, token=seeded.reader)
                feed_rate = await bench.load(
                    "feed", system.gateway_url, [{"query": FEED}], seeded.reader
                )
                gateway_ms = bench.cpu_ms.get("gateway")
                ceiling_rate = await bench.ceiling(feed["data"]["feed"], seeded.reader)
                report.add("feed.ceiling_ratio", feed_rate / ceiling_rate, "x of the ceiling")
                if gateway_ms is not None:  # a smoke run has one process, not the gateway's
                    ceiling_ms = bench.cpu_ms["ceiling"]
                    report.add("feed.gateway_cpu_over_ceiling", gateway_ms / ceiling_ms, "x")
                # The stretch target: the ceiling's own app, past Strawberry's per-field cost.
                leaf_rate = await bench.ceiling(
                    feed["data"]["feed"], seeded.reader, leaf_fields=True
                )
                report.add(
                    "ceiling.leaf_executor_ratio", leaf_rate / ceiling_rate, "x of the ceiling"
                )
                # The tail at 50 clients (issue 12: p99 within 3x p50).
                await bench.load(
                    "feed.50_clients",
                    system.gateway_url,
                    [{"query": FEED}],
                    seeded.reader,
                    connections=4 if smoke else 50,
                )
                _phase("feed and ceiling", clock)
            if "post_page" in wanted:
                page = {"query": POST_PAGE, "variables": {"id": seeded.big_post}}
                await bench.load("post_page", system.gateway_url, [page], seeded.reader)
            if "search" in wanted:
                texts = ("lactate", "sepsis")
                search = [{"query": SEARCH, "variables": {"text": t}} for t in texts]
                await bench.load("search", system.gateway_url, search, seeded.reader)
            if "create_post" in wanted:
                creates = [
                    {"query": CREATE_POST, "variables": {"input": post_input(n)}} for n in range(6)
                ]
                await bench.load("create_post", system.gateway_url, creates, seeded.writers[-1])
            _phase("post page, search, createPost", clock)
            if "fanout" in wanted:
                for subscribers in (2,) if smoke else FANOUT_SUBSCRIBERS:
                    await bench.fanout(system, seeded, subscribers)
                _phase("postAdded fan-out", clock)
            bench.memory("after_load")
        _phase("system stopped", clock)
        if "events" in wanted:
            await event_bench.run(report, Path(tmp) / "events", backend, smoke)
            _phase("events", clock)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a ~10 s run (about 3 s of load) that proves the harness",
    )
    parser.add_argument("--backend", choices=("dev", "real"), default="dev")
    parser.add_argument(
        "--only",
        default="",
        metavar="S1,S2",
        help=f"run only these scenarios (of {', '.join(SCENARIOS)}); all when not given",
    )
    args = parser.parse_args()
    only = frozenset(s.strip() for s in args.only.split(",") if s.strip())
    if unknown := only - set(SCENARIOS):
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; pick from {SCENARIOS}")
    report = asyncio.run(run(args.smoke, args.backend, stream=True, only=only))
    print(report.table())
