"""Admission of HTTP requests: who is asking (token, client address) and whether they may.

The token is verified once, here, and what was found travels to the GraphQL context in the
ASGI scope (`admission_of`). A request without a valid token spends its client address's
budget (`CONSILIUM_GATEWAY_ANONYMOUS_REQUESTS_PER_MINUTE`); past it the request is refused
with 429, `RATE_LIMITED` and `Retry-After` before anything runs. Signed-in requests are
limited where they write (gateway/limits/writes.py), per person.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth import Authentication, Authenticator
from gateway.limits.buckets import RateLimiter
from gateway.limits.client_address import ClientAddresses

#: Where the admission waits in the ASGI scope for the GraphQL context.
SCOPE_KEY = "consilium.admission"
CODE = "RATE_LIMITED"


@dataclass(frozen=True, slots=True)
class Admission:
    """What the gateway knows of a request's caller before GraphQL runs."""

    auth: Authentication
    client_address: str


def admission_of(scope: Scope) -> Admission | None:
    found = scope.get(SCOPE_KEY)
    return found if isinstance(found, Admission) else None


def retry_after_seconds(wait: float) -> int:
    """Whole seconds for `Retry-After` and `extensions.retryAfter`: rounded up, at least 1."""
    return max(1, math.ceil(wait))


def rate_limited(wait: float, message: str) -> JSONResponse:
    seconds = retry_after_seconds(wait)
    body = {"errors": [{"message": message, "extensions": {"code": CODE, "retryAfter": seconds}}]}
    return JSONResponse(body, status_code=429, headers={"retry-after": str(seconds)})


class AdmissionControl:
    """ASGI middleware: authenticates, resolves the client address, limits anonymous callers."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        addresses: ClientAddresses,
        anonymous: RateLimiter,
    ) -> None:
        self.app = app
        self._authenticator = authenticator
        self._addresses = addresses
        self._anonymous = anonymous

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(k.lower(), v) for k, v in scope.get("headers") or ()]
        authorization = next(
            (v.decode("latin-1") for k, v in headers if k == b"authorization"), None
        )
        forwarded = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
        client = scope.get("client")
        address = self._addresses.resolve(client[0] if client else None, forwarded)
        auth = await self._authenticator.authenticate(authorization)
        if auth.viewer is None:
            wait = self._anonymous.take(address)
            if wait is not None:
                message = (
                    "too many requests without sign-in from your network; "
                    "wait before trying again (see Retry-After)"
                )
                await rate_limited(wait, message)(scope, receive, send)
                return
        scope[SCOPE_KEY] = Admission(auth, address)
        await self.app(scope, receive, send)
