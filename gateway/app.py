"""The gateway's ASGI app: its routes, the middleware stack in order, and the process lifespan."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from gateway.health import healthz, readyz
from gateway.limits.admission import AdmissionControl
from gateway.limits.idempotency import Idempotency
from gateway.limits.policy import GatewayLimits
from gateway.limits.request import RequestLimits
from gateway.persisted.operations import PersistedOperations
from gateway.settings import GatewaySettings
from gateway.subscriptions.feed import LiveFeed
from gateway.tracing import TraceBoundary
from gateway.upstreams import Upstreams
from gateway.view import ConsiliumGraphQL
from plumbing.events.factory import create_bus
from plumbing.metrics.serving import serving_metrics

#: Allocations between young collections (CPython's default is 700).
_YOUNG_COLLECTION_EVERY = 20_000


def settle_heap() -> None:
    """The last step of the gateway's start. What is loaded by now (schema, clients, protobuf
    and SQL machinery) lives as long as the process: frozen, it is left out of the collector's
    passes. Young collections come less often too: a live event's burst of per-subscriber
    objects (1,000 subscribers) otherwise set off full passes that cost more than the
    delivery itself. Cycles are still collected; memory is bounded by the same passes."""
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, _YOUNG_COLLECTION_EVERY), middle, old)


def create_app(
    settings: GatewaySettings,
    upstreams: Upstreams | None = None,
    limits: GatewayLimits | None = None,
) -> Starlette:
    """The ASGI app; pass `upstreams` to share clients and `limits` to drive their clocks
    (tests), otherwise they are created. Raises ManifestError for a persisted manifest that
    does not verify."""
    persisted = PersistedOperations.from_settings(settings)
    shared = upstreams or Upstreams.connect(settings)
    limits = limits or GatewayLimits.from_settings(settings)
    feed = LiveFeed(
        create_bus(
            kafka_bootstrap=settings.kafka_bootstrap,
            data_dir=settings.data_dir,
            client_id="consilium-gateway",
        ),
        shared.content,
        shared.anonymity,
        caches=shared.caches,
        buffer=settings.subscription_buffer,
        max_subscribers=settings.max_subscriptions,
        # Dev's embedded bus has no operator to create topics; on Kafka, ops (or the
        # chart's hook) runs `consilium topics create`.
        ensure_topic=not settings.kafka_bootstrap,
    )
    graphql = ConsiliumGraphQL(settings, shared, feed, limits, persisted)
    # Outermost first: body size and time, then who is asking (and anonymous budgets), then
    # idempotent retries, then GraphQL.
    admitted = AdmissionControl(
        Idempotency(graphql, limits.idempotency),
        authenticator=shared.authenticator,
        addresses=limits.addresses,
        anonymous=limits.anonymous,
    )
    limited = RequestLimits(
        admitted, max_body_bytes=settings.max_body_bytes, timeout=settings.request_timeout
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.upstreams = shared
        async with serving_metrics("gateway", settings.host, settings.metrics_port) as metrics:
            app.state.metrics = metrics
            await feed.start()
            settle_heap()
            try:
                yield
            finally:
                await feed.stop()
                if upstreams is None:
                    await shared.close()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", TraceBoundary(limited), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        lifespan=lifespan,
    )
    app.state.upstreams = shared
    return app
