"""A store or broker the gateway itself cannot reach reads as UNAVAILABLE, a bug stays masked."""

from __future__ import annotations

import pytest
import strawberry

from gateway.extensions.errors import ShapeErrors


def _schema(error: Exception) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def live(self) -> int:
            raise error

    return strawberry.Schema(query=Query, extensions=[ShapeErrors])


@pytest.mark.parametrize("error", [ConnectionRefusedError(111, "refused"), TimeoutError()])
async def test_an_unreachable_dependency_is_unavailable(error: Exception) -> None:
    result = await _schema(error).execute("{ live }")
    assert result.errors is not None
    (shaped,) = result.errors
    assert shaped.extensions == {"code": "UNAVAILABLE"}
    assert "refused" not in shaped.message


async def test_a_bug_is_still_an_internal_error() -> None:
    result = await _schema(ValueError("a bug")).execute("{ live }")
    assert result.errors is not None
    (shaped,) = result.errors
    assert shaped.extensions is not None
    assert shaped.extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert "a bug" not in shaped.message
