"""Scrapes the Prometheus endpoints of running components and checks what they expose."""

from __future__ import annotations

import re
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

#: What each component must show after a flow that crossed every service: its own RPCs (or
#: GraphQL operations), and the event gauges of the services that have an outbox.
EXPECTED = {
    "gateway": ("consilium_graphql_requests_total", "consilium_upstream_requests_total"),
    "identity": ("consilium_grpc_server_requests_total", "consilium_outbox_pending_events"),
    "anonymity": (
        "consilium_grpc_server_requests_total",
        "consilium_upstream_requests_total",  # anonymity -> identity
        "consilium_outbox_pending_events",
        "consilium_consumer_lag_records",  # it consumes identity's topic on Kafka
    ),
    "content": ("consilium_grpc_server_requests_total", "consilium_outbox_pending_events"),
    "audit": ("consilium_grpc_server_requests_total", "consilium_consumer_lag_records"),
}


def scrape(port: int) -> str:
    reply = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.text


def series(text: str) -> dict[str, list[dict[str, str]]]:
    """consilium_* sample name -> the label sets it is exposed with."""
    found: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("consilium_"):
                found.setdefault(sample.name, []).append(dict(sample.labels))
    return found


def check_components(ports: dict[str, int], private: list[str], wait: float = 30) -> None:
    """Every component's /metrics shows what EXPECTED says (the sampled gauges within `wait`
    seconds), no private string anywhere, and only label values that are names, not ids."""
    for component, port in ports.items():
        deadline = time.monotonic() + wait
        while True:
            text = scrape(port)
            missing = [name for name in EXPECTED[component] if name not in series(text)]
            if not missing:
                break
            assert time.monotonic() < deadline, f"{component} never exposed {missing}"
            time.sleep(0.5)  # bounded: the sampler runs every few seconds
        for value in private:
            assert value not in text, (component, value)
        for name, label_sets in series(text).items():
            for labels in label_sets:
                for label, value in labels.items():
                    if label in ("le", "partition"):
                        continue
                    # Names from the code carry no digit but a version's; ids always have some.
                    assert not re.search(r"\d", re.sub(r"\.v\d+\b", "", value)), (name, value)
