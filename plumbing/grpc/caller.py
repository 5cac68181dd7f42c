"""Who is calling: the bearer token and trace-free request facts, carried in a contextvar."""

from __future__ import annotations

import contextvars
from collections.abc import Mapping, Sequence
from types import MappingProxyType

#: Metadata key of the end user's access token, forwarded by the gateway to identity and
#: anonymity only (never to content: content must not learn who is asking).
AUTHORIZATION_KEY = "authorization"

#: Metadata key of a calling service's own credential (see plumbing.auth.service).
SERVICE_TOKEN_KEY = "x-consilium-service"

#: Metadata key of a reveal grant: anonymity's signed note that the caller may read one profile.
REVEAL_GRANT_KEY = "x-consilium-reveal-grant"

_metadata: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "caller_metadata", default=MappingProxyType({})
)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def bearer_from_metadata(metadata: Sequence[tuple[str, str | bytes]] | None) -> str | None:
    """The token of an `authorization: Bearer <token>` entry, if there is one."""
    for key, value in metadata or ():
        if key.lower() == AUTHORIZATION_KEY:
            scheme, _, token = _text(value).partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
    return None


def set_caller_metadata(
    metadata: Sequence[tuple[str, str | bytes]] | None,
) -> contextvars.Token[Mapping[str, str]]:
    """Remembers the call's metadata (keys lower-cased) for the handler's duration."""
    values = {key.lower(): _text(value) for key, value in metadata or ()}
    return _metadata.set(MappingProxyType(values))


def reset_caller_metadata(reset: contextvars.Token[Mapping[str, str]]) -> None:
    _metadata.reset(reset)


def caller_metadata(key: str) -> str | None:
    """One metadata value of the current call, or None."""
    return _metadata.get().get(key)


def caller_token() -> str | None:
    """The current call's bearer token, or None for anonymous and service calls."""
    return bearer_from_metadata(tuple(_metadata.get().items()))


def caller_service_token() -> str | None:
    """The calling service's credential, or None when no service vouches for the call."""
    return caller_metadata(SERVICE_TOKEN_KEY)


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return ((AUTHORIZATION_KEY, f"Bearer {token}"),)
