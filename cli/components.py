"""The components the CLI runs, loaded lazily so one component's start imports only its code."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol


class ComponentApp(Protocol):
    """What `services/<name>/app.py` offers the CLI."""

    async def serve(self, *, host: str | None = None, port: int | None = None) -> None: ...

    async def migrate(self) -> None: ...

    async def seed_demo(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    module: str
    grpc_service: str

    def load(self) -> ComponentApp:
        app: ComponentApp = importlib.import_module(self.module)
        return app


#: The components that exist today, in start order (dependencies first).
COMPONENTS: dict[str, Component] = {
    c.name: c
    for c in (
        Component("identity", "services.identity.app", "consilium.identity.v1.IdentityService"),
    )
}


def get(name: str) -> Component:
    try:
        return COMPONENTS[name]
    except KeyError:
        known = ", ".join(COMPONENTS)
        raise SystemExit(f"unknown component {name!r}; choose one of: {known}") from None
