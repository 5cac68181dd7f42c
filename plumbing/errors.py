"""Transport-neutral domain errors: one code each, mapped to gRPC and GraphQL at the edges."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass


class ErrorCode(enum.Enum):
    """What went wrong, independent of the transport that reports it."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    UNAVAILABLE = "UNAVAILABLE"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL = "INTERNAL"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field: its name (as the caller spelled it) and what is wrong with it."""

    field: str
    description: str


class DomainError(Exception):
    """An expected failure whose message is safe to show to the caller.

    Messages must never carry personal data (names, emails, NPIs, user IDs): they travel
    to clients, logs and spans.
    """

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        violations: Iterable[FieldViolation] = (),
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.violations: tuple[FieldViolation, ...] = tuple(violations)


class InvalidArgument(DomainError):
    """Bad input; `violations` names every offending field."""

    code = ErrorCode.INVALID_ARGUMENT

    def __init__(self, violations: Iterable[FieldViolation], message: str | None = None) -> None:
        found = tuple(violations)
        fields = ", ".join(v.field for v in found)
        super().__init__(message or f"invalid input in: {fields}", violations=found)


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class AlreadyExists(DomainError):
    code = ErrorCode.ALREADY_EXISTS


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED


class PermissionDenied(DomainError):
    code = ErrorCode.PERMISSION_DENIED


class FailedPrecondition(DomainError):
    code = ErrorCode.FAILED_PRECONDITION


class Unavailable(DomainError):
    code = ErrorCode.UNAVAILABLE


class RateLimited(DomainError):
    """Too many attempts: try again after `retry_after` whole seconds (at least 1)."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))
