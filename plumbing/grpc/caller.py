"""Who is calling: the bearer token and trace-free request facts, carried in a contextvar."""

from __future__ import annotations

import contextvars
from collections.abc import Sequence

#: Metadata key of the end user's access token, forwarded by the gateway to identity and
#: anonymity only (never to content: content must not learn who is asking).
AUTHORIZATION_KEY = "authorization"

#: Metadata key of a calling service's own credential (see plumbing.auth.service).
SERVICE_TOKEN_KEY = "x-consilium-service"

_token: contextvars.ContextVar[str | None] = contextvars.ContextVar("caller_token", default=None)
_service_token: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "caller_service_token", default=None
)


def bearer_from_metadata(metadata: Sequence[tuple[str, str | bytes]] | None) -> str | None:
    """The token of an `authorization: Bearer <token>` entry, if there is one."""
    for key, value in metadata or ():
        if key.lower() == AUTHORIZATION_KEY:
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
    return None


def service_token_from_metadata(metadata: Sequence[tuple[str, str | bytes]] | None) -> str | None:
    for key, value in metadata or ():
        if key.lower() == SERVICE_TOKEN_KEY:
            return value.decode() if isinstance(value, bytes) else value
    return None


CallerTokens = tuple[contextvars.Token[str | None], contextvars.Token[str | None]]


def set_caller_tokens(token: str | None, service_token: str | None) -> CallerTokens:
    return _token.set(token), _service_token.set(service_token)


def reset_caller_tokens(reset: CallerTokens) -> None:
    _token.reset(reset[0])
    _service_token.reset(reset[1])


def caller_service_token() -> str | None:
    """The calling service's credential, or None when no service vouches for the call."""
    return _service_token.get()


def caller_token() -> str | None:
    """The current call's bearer token, or None for anonymous and service calls."""
    return _token.get()


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return ((AUTHORIZATION_KEY, f"Bearer {token}"),)
