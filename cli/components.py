"""The components the CLI runs, loaded lazily so one component's start imports only its code."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol, cast


class Servable(Protocol):
    """What every component module offers: `serve` until SIGTERM."""

    async def serve(self, *, host: str | None = None, port: int | None = None) -> None: ...


class StatefulApp(Servable, Protocol):
    """What `services/<name>/app.py` adds: its database and its demo data."""

    async def migrate(self) -> None: ...

    async def seed_demo(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    module: str
    #: The gRPC service its health check names; None for the HTTP gateway.
    grpc_service: str | None

    @property
    def stateful(self) -> bool:
        return self.grpc_service is not None

    def load(self) -> Servable:
        return cast(Servable, importlib.import_module(self.module))

    def load_stateful(self) -> StatefulApp:
        if not self.stateful:
            raise SystemExit(f"{self.name} keeps no state: nothing to migrate or seed")
        return cast(StatefulApp, importlib.import_module(self.module))


#: Every component, in start order (dependencies first).
COMPONENTS: dict[str, Component] = {
    c.name: c
    for c in (
        Component("identity", "services.identity.app", "consilium.identity.v1.IdentityService"),
        Component("anonymity", "services.anonymity.app", "consilium.anonymity.v1.AnonymityService"),
        Component("content", "services.content.app", "consilium.content.v1.ContentService"),
        Component("audit", "services.audit.app", "consilium.audit.v1.AuditService"),
        Component("gateway", "gateway.serve", None),
    )
}

STATEFUL = {name: c for name, c in COMPONENTS.items() if c.stateful}


def get(name: str) -> Component:
    try:
        return COMPONENTS[name]
    except KeyError:
        known = ", ".join(COMPONENTS)
        raise SystemExit(f"unknown component {name!r}; choose one of: {known}") from None
