"""The scrape endpoint answers GET /metrics in the exposition format and nothing else."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client import CollectorRegistry, Counter

from plumbing.metrics.endpoint import MetricsEndpoint
from plumbing.metrics.instruments import split_method


async def test_it_serves_its_registry_at_metrics_only() -> None:
    registry = CollectorRegistry()
    Counter("probe_things", "Things.", ["kind"], registry=registry).labels("a").inc(2)
    endpoint = MetricsEndpoint("127.0.0.1", 0, registry=registry)
    await endpoint.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{endpoint.port}") as http:
            reply = await http.get("/metrics")
            assert reply.status_code == 200
            assert reply.headers["content-type"].startswith("text/plain; version=")
            assert 'probe_things_total{kind="a"} 2.0' in reply.text
            assert (await http.get("/")).status_code == 404
            assert (await http.get("/graphql")).status_code == 404
            assert (await http.post("/metrics", content=b"x")).status_code == 405
            assert (await http.head("/metrics")).status_code == 200
        # A client that never finishes its request holds up neither others nor the stop.
        reader, writer = await asyncio.open_connection("127.0.0.1", endpoint.port)
        async with httpx.AsyncClient() as http:
            reply = await http.get(f"http://127.0.0.1:{endpoint.port}/metrics")
            assert reply.status_code == 200
    finally:
        await endpoint.stop()
    assert await reader.read() == b""  # closed by the stop, unanswered
    writer.close()
    await writer.wait_closed()


def test_method_paths_split_into_service_and_method() -> None:
    assert split_method("/consilium.content.v1.ContentService/CreatePost") == (
        "consilium.content.v1.ContentService",
        "CreatePost",
    )
    assert split_method("no-slashes") == ("unknown", "unknown")
    assert split_method("/a/b/c") == ("unknown", "unknown")
