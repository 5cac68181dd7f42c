"""Samples what a scrape cannot ask synchronously: outbox depth and consumer lag, every few s."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from plumbing.events.runtime import EventRuntime
from plumbing.metrics.instruments import CONSUMER_LAG, OUTBOX_PENDING

log = logging.getLogger("consilium.metrics")


class EventSampler:
    """Puts `events`' outbox depth and its consumers' lag into the gauges every `interval` s.

    A sample that fails (the database or the broker away) keeps the last values and is
    logged; the outbox gauge is the very thing that should show an outage, so the relay's
    failures never stop it.
    """

    def __init__(self, component: str, events: EventRuntime, *, interval: float = 5.0) -> None:
        self._component = component
        self._events = events
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        #: The lag series each group last set, so a partition that moved to another replica
        #: stops being reported here (its last value would otherwise linger, and alert).
        self._reported: dict[str, set[tuple[str, str]]] = {}

    async def sample_once(self) -> None:
        try:
            pending = await self._events.relay.pending()
        except Exception:
            log.warning("%s: cannot count the outbox", self._component, exc_info=True)
        else:
            OUTBOX_PENDING.labels(self._component).set(pending)
        for consumer in self._events.consumers:
            try:
                lags = await consumer.lag()
            except Exception:
                log.warning("%s: cannot read the consumer lag", consumer.group, exc_info=True)
                continue
            current = {(topic, str(partition)) for topic, partition in lags}
            for gone in self._reported.get(consumer.group, set()) - current:
                CONSUMER_LAG.remove(consumer.group, *gone)
            self._reported[consumer.group] = current
            for (topic, partition), lag in lags.items():
                CONSUMER_LAG.labels(consumer.group, topic, str(partition)).set(lag)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self._component}-metrics-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self.sample_once()
            await asyncio.sleep(self._interval)
