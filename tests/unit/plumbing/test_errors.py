"""Domain errors map to gRPC status codes with field violations, and back."""

import grpc
import pytest
from google.rpc import error_details_pb2

from plumbing.errors import ErrorCode, FieldViolation, InvalidArgument, NotFound, RateLimited
from plumbing.grpc.errors import grpc_code, to_rpc_status


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_has_a_grpc_status(code: ErrorCode) -> None:
    assert isinstance(grpc_code(code), grpc.StatusCode)


def test_invalid_argument_names_every_field() -> None:
    error = InvalidArgument(
        [FieldViolation("email", "not an email"), FieldViolation("npi", "bad check digit")]
    )
    status = to_rpc_status(error)
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "email" in status.message and "npi" in status.message
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == ["email", "npi"]


def test_plain_error_has_no_details() -> None:
    status = to_rpc_status(NotFound("no such physician"))
    assert status.code == grpc.StatusCode.NOT_FOUND.value[0]
    assert list(status.details) == []


def test_rate_limited_is_resource_exhausted_with_retry_info_in_whole_seconds() -> None:
    status = to_rpc_status(RateLimited("too many sign-ins", retry_after=12.2))
    assert status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    retry = error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(retry)
    assert retry.retry_delay.seconds == 13
    assert RateLimited("soon", retry_after=0.01).retry_after == 1
