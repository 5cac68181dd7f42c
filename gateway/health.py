"""`/healthz` (the process is alive) and `/readyz` (every upstream reports SERVING)."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.upstreams import Upstreams

_SERVING = health_pb2.HealthCheckResponse.SERVING


async def _serving(channel: grpc.aio.Channel, service: str) -> bool:
    try:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=1.0
        )
    except grpc.aio.AioRpcError:
        return False
    return bool(reply.status == _SERVING)


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    upstreams: Upstreams = request.app.state.upstreams
    checks = {
        name: _serving(client.channel, service)
        for name, client, service in upstreams.health_targets()
    }
    results = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    ready = all(results.values())
    body = {
        "status": "ready" if ready else "not ready",
        "upstreams": {name: "SERVING" if ok else "NOT_SERVING" for name, ok in results.items()},
    }
    return JSONResponse(body, status_code=200 if ready else 503)
