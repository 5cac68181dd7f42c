"""Who is calling: the bearer token and trace-free request facts, carried in a contextvar."""

from __future__ import annotations

import contextvars
from collections.abc import Sequence

#: Metadata key of the end user's access token, forwarded by the gateway to identity and
#: anonymity only (never to content: content must not learn who is asking).
AUTHORIZATION_KEY = "authorization"

_token: contextvars.ContextVar[str | None] = contextvars.ContextVar("caller_token", default=None)


def bearer_from_metadata(metadata: Sequence[tuple[str, str | bytes]] | None) -> str | None:
    """The token of an `authorization: Bearer <token>` entry, if there is one."""
    for key, value in metadata or ():
        if key.lower() == AUTHORIZATION_KEY:
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
    return None


def set_caller_token(token: str | None) -> contextvars.Token[str | None]:
    return _token.set(token)


def reset_caller_token(reset: contextvars.Token[str | None]) -> None:
    _token.reset(reset)


def caller_token() -> str | None:
    """The current call's bearer token, or None for anonymous and service calls."""
    return _token.get()


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return ((AUTHORIZATION_KEY, f"Bearer {token}"),)
