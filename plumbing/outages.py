"""Tells an unreachable database or broker apart from a bug, so an outage reads as UNAVAILABLE.

A PostgreSQL server that died, restarts or refuses connections, a dropped socket or a Kafka
broker that is away is not a defect of the caller's request: clients may retry it. Every edge
that turns an unexpected exception into a status (the gRPC interceptor, the GraphQL error
shaping) and every consumer that decides whether an event is poison asks `is_outage` here,
so the rule lives in one place.
"""

from __future__ import annotations

import socket

from aiokafka.errors import KafkaError, KafkaTimeoutError
from sqlalchemy import exc as sa

from plumbing.errors import Unavailable

#: SQLSTATE classes of a server that cannot serve now: 08 connection exception, 53 insufficient
#: resources (too many connections), 57P01-57P05 shutdown, crash, starting up, idle timeouts.
_OUTAGE_SQLSTATES = ("08", "53", "57P")
_SQLALCHEMY_OUTAGES = (
    sa.OperationalError,
    sa.InterfaceError,
    sa.DisconnectionError,
    sa.TimeoutError,
)
_SOCKET_OUTAGES = (ConnectionError, TimeoutError, socket.gaierror)
#: How far down `__cause__`/`__context__` to look (SQLAlchemy and asyncpg wrap each other).
_DEPTH = 8

MESSAGE = "a backing store is unavailable; retry shortly"


def _one_is_outage(exc: BaseException) -> bool:
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, (*_SQLALCHEMY_OUTAGES, *_SOCKET_OUTAGES)):
        return True
    if isinstance(exc, KafkaError):
        # A send that timed out waiting for a broker is an outage too, though aiokafka does
        # not mark it retriable (it cannot know whether the record was written).
        return bool(exc.retriable) or isinstance(exc, KafkaTimeoutError)
    # asyncpg's errors, matched by SQLSTATE so that this module needs no driver import.
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and type(exc).__module__.startswith("asyncpg"):
        return sqlstate.startswith(_OUTAGE_SQLSTATES)
    return type(exc).__module__.startswith("asyncpg") and "connection" in type(exc).__name__.lower()


def is_outage(exc: BaseException) -> bool:
    """True when `exc`, or an error it was raised from, says a database or broker is away."""
    seen: BaseException | None = exc
    for _ in range(_DEPTH):
        if seen is None:
            return False
        if _one_is_outage(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def as_unavailable(exc: BaseException) -> Unavailable | None:
    """The UNAVAILABLE error to answer for `exc` when it is an outage; None otherwise."""
    return Unavailable(MESSAGE) if is_outage(exc) else None
