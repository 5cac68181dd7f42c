"""The one table from domain error codes to gRPC status, with google.rpc details both ways."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from plumbing.errors import DomainError, ErrorCode, FieldViolation, RateLimited

_TO_GRPC: dict[ErrorCode, grpc.StatusCode] = {
    ErrorCode.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCode.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorCode.ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    ErrorCode.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    ErrorCode.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    ErrorCode.FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    ErrorCode.RATE_LIMITED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorCode.INTERNAL: grpc.StatusCode.INTERNAL,
}
_FROM_GRPC: dict[grpc.StatusCode, ErrorCode] = {v: k for k, v in _TO_GRPC.items()}
_FROM_GRPC[grpc.StatusCode.DEADLINE_EXCEEDED] = ErrorCode.UNAVAILABLE


def grpc_code(code: ErrorCode) -> grpc.StatusCode:
    return _TO_GRPC[code]


def to_rpc_status(error: DomainError) -> status_pb2.Status:
    """A google.rpc.Status for `error`, with a BadRequest detail naming each bad field and,
    for RESOURCE_EXHAUSTED, a RetryInfo detail saying when to try again (gRPC's standard
    retry-after, read back by `from_rpc_error`)."""
    status_code = _TO_GRPC[error.code]
    status = status_pb2.Status(code=status_code.value[0], message=error.message)
    if error.violations:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description
                )
                for v in error.violations
            ]
        )
        detail = any_pb2.Any()
        detail.Pack(bad_request)
        status.details.append(detail)
    if isinstance(error, RateLimited):
        retry = error_details_pb2.RetryInfo()
        retry.retry_delay.FromSeconds(error.retry_after)
        detail = any_pb2.Any()
        detail.Pack(retry)
        status.details.append(detail)
    return status


def from_rpc_error(error: grpc.aio.AioRpcError | grpc.RpcError) -> DomainError:
    """Turns a failed call back into a DomainError, keeping the field violations.

    Messages of INTERNAL and transport failures are not passed on: they may describe the
    callee's internals.
    """
    code = _FROM_GRPC.get(error.code(), ErrorCode.UNAVAILABLE)
    violations: list[FieldViolation] = []
    retry_after: int | None = None
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
                retry_after = retry.retry_delay.seconds
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                violations.extend(
                    FieldViolation(v.field, v.description) for v in bad_request.field_violations
                )
    if code in (ErrorCode.INTERNAL, ErrorCode.UNAVAILABLE):
        message = (
            "upstream service unavailable" if code is ErrorCode.UNAVAILABLE else "internal error"
        )
    else:
        message = error.details() or code.value
    if code is ErrorCode.RATE_LIMITED:
        # Without a RetryInfo (a foreign server), a minute is a safe guess.
        return RateLimited(message, retry_after=60 if retry_after is None else retry_after)
    return DomainError(message, code=code, violations=violations)


__all__ = ["code_pb2", "from_rpc_error", "grpc_code", "to_rpc_status"]
