"""A component's metrics for as long as it serves: the scrape endpoint and the event sampler."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from plumbing.events.runtime import EventRuntime
from plumbing.metrics.endpoint import MetricsEndpoint
from plumbing.metrics.sampler import EventSampler


@contextlib.asynccontextmanager
async def serving_metrics(
    component: str,
    host: str,
    port: int | None,
    events: EventRuntime | None = None,
    *,
    interval: float = 5.0,
) -> AsyncIterator[MetricsEndpoint | None]:
    """Serves `/metrics` on `host:port` (None: no endpoint, nothing sampled) and samples
    `events`' outbox depth and consumer lag every `interval` seconds meanwhile."""
    if port is None:
        yield None
        return
    endpoint = MetricsEndpoint(host, port)
    await endpoint.start()
    sampler = EventSampler(component, events, interval=interval) if events is not None else None
    if sampler is not None:
        sampler.start()
    try:
        yield endpoint
    finally:
        if sampler is not None:
            await sampler.stop()
        await endpoint.stop()
