"""The typed per-request context every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from gateway.auth import Authentication, Viewer
from gateway.limits.policy import GatewayLimits
from gateway.loaders import Loaders
from gateway.settings import GatewaySettings
from gateway.subscriptions.feed import LiveFeed
from gateway.upstreams import Upstreams


@dataclass(frozen=True, slots=True)
class GatewayContext:
    """Built fresh for each request (each WebSocket connection): its viewer, its loaders, the
    shared clients and the live feed."""

    request: Request | WebSocket
    response: Any
    auth: Authentication
    #: The caller's network (gateway/limits/client_address.py); identity throttles sign-ins by it.
    client_address: str
    limits: GatewayLimits
    upstreams: Upstreams
    loaders: Loaders
    settings: GatewaySettings
    feed: LiveFeed

    @property
    def viewer(self) -> Viewer | None:
        return self.auth.viewer


#: What every resolver takes as `info`: one alias, so no module spells the generic again.
Info = StrawberryInfo[GatewayContext, None]
