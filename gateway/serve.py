"""Runs the gateway under uvicorn: `consilium serve gateway`."""

from __future__ import annotations

from typing import Any

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
    await uvicorn.Server(uvicorn_config(app, settings)).serve()


def uvicorn_config(app: Any, settings: GatewaySettings) -> uvicorn.Config:
    """How uvicorn runs the gateway's app, here and wherever tests run it in-process."""
    return uvicorn.Config(
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
        # Off by default: a live post's frame is a few hundred bytes, yet compressing it per
        # socket was about a quarter of the fan-out's CPU, and each socket's zlib state ~300 kB.
        ws_per_message_deflate=settings.ws_compression,
    )
