"""The bench's load client: bounded GraphQL load and a postAdded fan-out, run as its own process.

It runs apart from the system under test so its CPU is not billed to the gateway. Input is
one JSON job on stdin, output one JSON result on stdout: `python -m perf.load < job.json`.
Loopback only; every loop stops at a request count or a deadline, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..1) of `values`; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _loopback(url: str) -> str:
    if not url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:")):
        raise ValueError(f"the bench talks to loopback only, not {url}")
    return url


async def run_load(job: dict[str, Any]) -> dict[str, Any]:
    """`connections` keep-alive clients send `bodies` in turn until `requests` or `seconds`."""
    url = _loopback(job["url"])
    bodies: list[bytes] = [json.dumps(b).encode() for b in job["bodies"]]
    headers = {"content-type": "application/json", **job.get("headers", {})}
    connections, budget, seconds = job["connections"], job["requests"], job["seconds"]
    latencies: list[float] = []
    failures = 0
    sent = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30, trust_env=False) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal sent, failures
            while sent < budget and time.perf_counter() < deadline:
                body = bodies[sent % len(bodies)]
                sent += 1
                began = time.perf_counter()
                reply = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - began)
                if reply.status_code != 200 or b'"errors"' in reply.content:
                    failures += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    return {
        "requests": len(latencies),
        "failures": failures,
        "seconds": elapsed,
        "latencies": latencies,
    }


async def _subscriber(
    url: str, token: str, query: str, seen: asyncio.Queue[Any], number: int
) -> None:
    async with connect(url, subprotocols=[PROTOCOL], proxy=None, open_timeout=30) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        await _deliver(ws, seen, number)


async def _deliver(ws: ClientConnection, seen: asyncio.Queue[Any], number: int) -> None:
    async for raw in ws:
        message = json.loads(raw)
        if message.get("type") != "next":
            raise RuntimeError(f"subscription failed: {message}")
        # An event that came with errors (e.g. an upstream timeout) is live but not delivered
        # as asked: it is counted apart, by its None id, and never timed.
        data = message["payload"].get("data") or {}
        value = next(iter(data.values()), None) if "errors" not in message["payload"] else None
        seen.put_nowait((value["id"] if value else None, number, time.perf_counter()))


async def run_fanout(job: dict[str, Any]) -> dict[str, Any]:
    """`subscribers` sockets subscribe; `posts` createPosts, each timed from send to every
    delivery. A warm-up post (repeated until all receive one) proves every socket is live."""
    url = _loopback(job["url"])
    ws_url = url.replace("http://", "ws://", 1)
    count, within = job["subscribers"], job["seconds"]
    seen: asyncio.Queue[Any] = asyncio.Queue()
    latencies: list[float] = []
    missed = 0
    create_errors = 0
    errored = [0]
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:

        async def create() -> tuple[str, float]:
            """A post; a failed write (e.g. SQLite busy) is counted and tried again."""
            nonlocal create_errors
            for _ in range(5):
                began = time.perf_counter()
                reply = await client.post(url, json=job["create"], headers=job["headers"])
                data = reply.json().get("data") or {}
                if data.get("createPost"):
                    return data["createPost"]["id"], began
                create_errors += 1
                print(f"fan-out: createPost failed: {reply.text[:300]}", file=sys.stderr)
            raise RuntimeError("createPost failed 5 times in a row")

        tasks = [
            asyncio.create_task(_subscriber(ws_url, job["token"], job["query"], seen, n))
            for n in range(count)
        ]
        try:
            await _warm_up(create, seen, tasks, within)
            for _ in range(job["posts"]):
                post_id, began = await create()
                got = await _gather(seen, post_id, count, 10.0, errored)
                latencies.extend(at - began for at in got)
                missed += count - len(got)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "latencies": latencies,
        "missed": missed,
        "create_errors": create_errors,
        "errored": errored[0],
    }


async def _warm_up(
    create: Callable[[], Awaitable[tuple[str, float]]],
    seen: asyncio.Queue[Any],
    tasks: list[asyncio.Task[None]],
    within: float,
) -> None:
    """Posts until every socket received some post (then its subscription is live), and
    lets the stragglers of those posts drain, so the timed posts start from quiet."""
    live: set[int] = set()
    async with asyncio.timeout(within):
        while len(live) < len(tasks):
            for task in tasks:
                if task.done():
                    task.result()  # a subscriber that died: say why
            await create()
            deadline = time.perf_counter() + 3.0
            while len(live) < len(tasks) and (left := deadline - time.perf_counter()) > 0:
                with contextlib.suppress(TimeoutError):
                    live.add((await asyncio.wait_for(seen.get(), left))[1])
        with contextlib.suppress(TimeoutError):
            while True:
                await asyncio.wait_for(seen.get(), 1.0)


async def _gather(
    seen: asyncio.Queue[Any], post_id: str, count: int, within: float, errored: list[int]
) -> list[float]:
    """Delivery times of `post_id` until `count` arrived or `within` seconds passed."""
    got: list[float] = []
    deadline = time.perf_counter() + within
    while len(got) < count and (left := deadline - time.perf_counter()) > 0:
        try:
            delivered, _, at = await asyncio.wait_for(seen.get(), left)
        except TimeoutError:
            break
        if delivered == post_id:
            got.append(at)
        elif delivered is None:
            errored[0] += 1
    return got


def main() -> None:
    job = json.load(sys.stdin)
    runner = run_fanout if job["kind"] == "fanout" else run_load
    json.dump(asyncio.run(runner(job)), sys.stdout)


if __name__ == "__main__":
    main()
