"""A grpc.aio server with real health, reflection, interceptors and graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from plumbing.grpc.interceptors import CallerCheck, ServiceInterceptor

log = logging.getLogger("consilium.grpc")

HealthCheck = Callable[[], Awaitable[bool]]

_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass(frozen=True, slots=True)
class ServiceBinding:
    """One gRPC service to host: its full name, the generated `add_…_to_server`, the servicer."""

    name: str
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    servicer: object


class GrpcServer:
    """Hosts services with health (tied to `health_check`), reflection and interceptors.

    Health starts NOT_SERVING, turns SERVING once `health_check` passes, follows it every
    `health_interval` seconds, and turns NOT_SERVING for good when shutdown begins.
    `callers` (e.g. a `plumbing.auth.service.CallerPolicy`) admits or refuses each call by
    the calling service's credential before any handler runs.
    """

    def __init__(
        self,
        *,
        component: str,
        bindings: Sequence[ServiceBinding],
        address: str,
        health_check: HealthCheck | None = None,
        health_interval: float = 5.0,
        grace: float = 10.0,
        keep_caller_metadata: bool = True,
        callers: CallerCheck | None = None,
    ) -> None:
        self.component = component
        self._bindings = tuple(bindings)
        self._address = address
        self._health_check = health_check
        self._health_interval = health_interval
        self._grace = grace
        self._health = HealthServicer()
        self._server = grpc.aio.server(
            # It opens each call's server span too (plumbing/grpc/server_spans.py).
            interceptors=[ServiceInterceptor(keep_metadata=keep_caller_metadata, callers=callers)],
            options=[("grpc.so_reuseport", 0)],
        )
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self.port = 0

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self._bindings)

    async def start(self) -> int:
        """Binds, starts serving, and returns the bound port (useful with port 0)."""
        for binding in self._bindings:
            binding.add_to_server(binding.servicer, self._server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            (
                *self.service_names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            self._server,
        )
        self.port = self._server.add_insecure_port(self._address)
        if self.port == 0:
            raise RuntimeError(f"{self.component}: cannot bind gRPC to {self._address}")
        await self._set_all(_NOT_SERVING)
        await self._server.start()
        await self._refresh_health()
        self._watcher = asyncio.create_task(self._watch_health(), name=f"{self.component}-health")
        log.info("%s serving gRPC on port %d", self.component, self.port)
        return self.port

    async def stop(self) -> None:
        """NOT_SERVING first, so balancers drain us; then in-flight calls get `grace` seconds."""
        if self._stopping:
            return
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self._health.enter_graceful_shutdown()
        await self._server.stop(self._grace)
        log.info("%s stopped", self.component)

    async def wait_for_termination(self) -> None:
        await self._server.wait_for_termination()

    async def _set_all(self, status: int) -> None:
        for name in ("", *self.service_names):
            await self._health.set(name, status)

    async def _refresh_health(self) -> None:
        healthy = True
        if self._health_check is not None:
            try:
                healthy = await self._health_check()
            except Exception:  # a failing dependency check means NOT_SERVING, not a crash
                log.warning("%s health check failed", self.component, exc_info=True)
                healthy = False
        if not self._stopping:
            await self._set_all(_SERVING if healthy else _NOT_SERVING)

    async def _watch_health(self) -> None:
        while True:
            await asyncio.sleep(self._health_interval)
            await self._refresh_health()


async def run_until_signalled(
    server: GrpcServer, *, on_stopped: Sequence[Callable[[], Awaitable[None]]] = ()
) -> None:
    """Starts `server`, waits for SIGTERM or SIGINT, stops it, then runs `on_stopped` in order."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        await stop.wait()
        log.info("%s received a stop signal", server.component)
    finally:
        await server.stop()
        for callback in on_stopped:
            await callback()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
