"""Errors as clients see them: one table of codes, field violations, and nothing internal."""

from __future__ import annotations

import logging
import re
from typing import Any

import grpc
import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig

from gateway.extensions.errors import GRAPHQL_CODES, ShapeErrors
from plumbing.errors import (
    AlreadyExists,
    DomainError,
    ErrorCode,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from plumbing.grpc.errors import from_rpc_error

#: What a client may see, written out so that a change to the table shows here.
EXPECTED = {
    InvalidArgument([FieldViolation("title", "required")]): "BAD_USER_INPUT",
    NotFound("no such post"): "NOT_FOUND",
    AlreadyExists("already registered"): "ALREADY_EXISTS",
    Unauthenticated("sign in first"): "UNAUTHENTICATED",
    PermissionDenied("needs a role"): "FORBIDDEN",
    FailedPrecondition("the post is locked"): "FAILED_PRECONDITION",
    Unavailable("retry shortly"): "UNAVAILABLE",
    RateLimited("slow down", retry_after=3): "RATE_LIMITED",
}

#: What must never reach a client: a host, a path, a credential, a user id, a class name.
SECRETS = ("10.0.3.7:5432", "/srv/consilium", "hunter2", "usr_abcdefghijklmnopqrstuvwxyz")
DETAIL = "connect to 10.0.3.7:5432 as usr_abcdefghijklmnopqrstuvwxyz with hunter2 (/srv/consilium)"


def _schema(error: BaseException, *, suggestions: bool = True) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def broken(self) -> int:
            raise error

        @strawberry.field
        def fine(self, first: int = 1) -> int:
            return first

    return strawberry.Schema(
        query=Query,
        extensions=[ShapeErrors],
        config=StrawberryConfig(disable_field_suggestions=not suggestions),
    )


async def _only_error(error: BaseException, document: str = "{ broken fine }") -> dict[str, Any]:
    result = await _schema(error).execute(document)
    assert result.errors is not None
    (shaped,) = result.errors
    assert result.data == {"broken": None, "fine": 1} or result.data is None
    return {"message": shaped.message, "extensions": shaped.extensions, "path": shaped.path}


def test_every_domain_code_has_a_graphql_code() -> None:
    assert set(GRAPHQL_CODES) == set(ErrorCode)
    assert {type(e).code for e in EXPECTED} == set(ErrorCode) - {ErrorCode.INTERNAL}


@pytest.mark.parametrize(("error", "code"), EXPECTED.items(), ids=lambda v: str(v)[:20])
async def test_a_domain_error_keeps_its_message_under_its_code(
    error: DomainError, code: str
) -> None:
    shaped = await _only_error(error)
    assert shaped["extensions"]["code"] == code
    assert shaped["message"] == error.message
    assert shaped["path"] == ["broken"]  # a field error: the other field still answers


async def test_bad_input_names_each_field_to_fix() -> None:
    error = InvalidArgument(
        [FieldViolation("input.title", "required"), FieldViolation("input.body", "too long")]
    )
    shaped = await _only_error(error)
    assert shaped["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fieldViolations": [
            {"field": "input.title", "description": "required"},
            {"field": "input.body", "description": "too long"},
        ],
    }


async def test_rate_limited_says_when_to_retry_in_whole_seconds() -> None:
    shaped = await _only_error(RateLimited("slow down", retry_after=2.1))
    assert shaped["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 3}


# -- nothing internal leaks -------------------------------------------------------------------


async def test_a_bug_is_masked_behind_a_trace_id_the_log_carries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="consilium.gateway.errors")
    shaped = await _only_error(RuntimeError(DETAIL))
    assert shaped["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    trace_id = shaped["extensions"]["traceId"]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id)
    assert not any(s in str(shaped) for s in (*SECRETS, "RuntimeError"))
    (record,) = [r for r in caplog.records if r.name == "consilium.gateway.errors"]
    assert trace_id in record.getMessage()


async def test_an_internal_domain_error_is_masked_like_a_bug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A DomainError left at its default code (INTERNAL) is no message written for clients:
    its text may name hosts or people. (Failed before: its message went out as it was.)"""
    caplog.set_level(logging.ERROR, logger="consilium.gateway.errors")
    shaped = await _only_error(DomainError(DETAIL))
    assert shaped["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert not any(s in str(shaped) for s in SECRETS), shaped
    (record,) = [r for r in caplog.records if r.name == "consilium.gateway.errors"]
    assert shaped["extensions"]["traceId"] in record.getMessage()


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (grpc.StatusCode.UNAVAILABLE, "UNAVAILABLE"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "UNAVAILABLE"),
        (grpc.StatusCode.INTERNAL, "INTERNAL_SERVER_ERROR"),
        (grpc.StatusCode.UNKNOWN, "UNAVAILABLE"),
    ],
)
async def test_an_upstream_failure_tells_its_code_and_nothing_of_the_upstream(
    status: grpc.StatusCode, code: str
) -> None:
    failure = grpc.aio.AioRpcError(status, details=DETAIL, debug_error_string=DETAIL)
    shaped = await _only_error(from_rpc_error(failure))
    assert shaped["extensions"]["code"] == code
    assert not any(s in str(shaped) for s in SECRETS), shaped


@pytest.mark.parametrize(
    "outage",
    [ConnectionRefusedError(111, DETAIL), TimeoutError(DETAIL), ConnectionResetError(DETAIL)],
)
async def test_a_dependency_away_is_unavailable_without_its_address(outage: Exception) -> None:
    shaped = await _only_error(outage)
    assert shaped["extensions"] == {"code": "UNAVAILABLE"}
    assert not any(s in str(shaped) for s in SECRETS), shaped


# -- the client's own mistakes ----------------------------------------------------------------


async def test_a_bad_document_is_a_validation_error_without_hints_when_suggestions_are_off() -> (
    None
):
    document = "{ fine(firs: 2) }"
    with_hints = await _schema(ValueError()).execute(document)
    without = await _schema(ValueError(), suggestions=False).execute(document)
    assert with_hints.errors and without.errors
    assert "Did you mean" in with_hints.errors[0].message
    for error in without.errors:
        assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
        assert "Did you mean" not in error.message and "firs" in error.message
