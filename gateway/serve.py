"""Runs the gateway under uvicorn: `consilium serve gateway`."""

from __future__ import annotations

import uvicorn

from gateway.app import create_app
from gateway.persisted.manifest import ManifestError
from gateway.settings import GatewaySettings
from plumbing.logging import configure_logging
from plumbing.telemetry import setup_telemetry


async def serve(*, host: str | None = None, port: int | None = None) -> None:
    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = GatewaySettings(**overrides)  # type: ignore[arg-type]
    configure_logging("gateway", level=settings.log_level, fmt=settings.log_format)
    setup_telemetry("gateway")
    try:
        app = create_app(settings)
    except ManifestError as exc:
        raise SystemExit(f"gateway: {exc}") from None
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # our JSON logging, not uvicorn's
        access_log=False,  # access lines would carry query strings (GET queries)
        lifespan="on",
        # The gateway alone decides whose X-Forwarded-For to believe (CONSILIUM_GATEWAY_
        # TRUSTED_PROXIES); uvicorn's own rewrite would trust any local peer's header.
        proxy_headers=False,
        # Uvicorn handles SIGTERM: stops accepting, finishes in-flight requests, then exits.
        timeout_graceful_shutdown=int(settings.request_timeout) + 1,
    )
    await uvicorn.Server(config).serve()
