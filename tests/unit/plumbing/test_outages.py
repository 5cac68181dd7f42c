"""Which failures read as an outage (UNAVAILABLE, retryable) and which stay bugs."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, TopicAuthorizationFailedError
from sqlalchemy import exc as sa

from plumbing.errors import ErrorCode
from plumbing.outages import as_unavailable, is_outage


def _raised_from(outer: Exception, inner: Exception) -> Exception:
    try:
        try:
            raise inner
        except Exception as caught:
            raise outer from caught
    except Exception as chained:
        return chained


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(),
        TimeoutError(),
        sa.OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        sa.InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.TooManyConnectionsError("too many clients"),
        KafkaConnectionError(),
        KafkaTimeoutError(),
        _raised_from(RuntimeError("wrapped"), ConnectionRefusedError()),
    ],
    ids=type,
)
def test_an_unreachable_store_or_broker_is_an_outage(error: Exception) -> None:
    assert is_outage(error)
    unavailable = as_unavailable(error)
    assert unavailable is not None and unavailable.code is ErrorCode.UNAVAILABLE
    assert "postgres" not in unavailable.message.lower()


@pytest.mark.parametrize(
    "error",
    [
        ValueError("a bug"),
        KeyError("missing"),
        FileNotFoundError("no such file"),
        sa.IntegrityError("INSERT", {}, Exception("duplicate key")),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        TopicAuthorizationFailedError(),
    ],
    ids=type,
)
def test_bugs_and_refusals_are_not_outages(error: Exception) -> None:
    assert not is_outage(error)
    assert as_unavailable(error) is None
