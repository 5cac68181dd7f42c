"""gRPC server mechanisms on loopback: health follows the dependency, errors are mapped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf import wrappers_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from plumbing.errors import FieldViolation, InvalidArgument
from plumbing.grpc.errors import from_rpc_error
from plumbing.grpc.server import GrpcServer, ServiceBinding
from plumbing.logging import JsonFormatter, PersonalDataFilter, also_redact

SERVICE = "consilium.test.v1.ProbeService"
SECRET = "patient Jane Roe, MRN 0042"


async def _fail_expected(request: wrappers_pb2.StringValue, context: Any) -> Any:
    raise InvalidArgument([FieldViolation("text", "must not be empty")])


async def _fail_unexpected(request: wrappers_pb2.StringValue, context: Any) -> Any:
    raise RuntimeError(SECRET)


def _add_probe(_servicer: object, server: grpc.aio.Server) -> None:
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            fn,
            request_deserializer=wrappers_pb2.StringValue.FromString,
            response_serializer=wrappers_pb2.StringValue.SerializeToString,
        )
        for name, fn in (("Expected", _fail_expected), ("Unexpected", _fail_unexpected))
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


class Dependency:
    """A database stand-in whose health the test flips."""

    def __init__(self) -> None:
        self.up = False
        self.checked = asyncio.Event()

    async def check(self) -> bool:
        self.checked.set()
        return self.up


@pytest.fixture
async def probe() -> AsyncIterator[tuple[GrpcServer, Dependency, grpc.aio.Channel]]:
    dependency = Dependency()
    server = GrpcServer(
        component="probe",
        bindings=[ServiceBinding(SERVICE, _add_probe, object())],
        address="127.0.0.1:0",
        health_check=dependency.check,
        health_interval=0.05,
        grace=1,
    )
    port = await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield server, dependency, channel
    await server.stop()


async def _status(channel: grpc.aio.Channel) -> int:
    reply = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=SERVICE), timeout=2
    )
    return int(reply.status)


async def _wait_for(channel: grpc.aio.Channel, wanted: int) -> None:
    """Follows the health Watch stream until it reports `wanted` (bounded by a timeout)."""
    watch = health_pb2_grpc.HealthStub(channel).Watch(
        health_pb2.HealthCheckRequest(service=SERVICE), timeout=10
    )
    async for reply in watch:
        if reply.status == wanted:
            watch.cancel()
            return
    pytest.fail(f"health never reported {wanted}")


async def test_health_follows_the_dependency(
    probe: tuple[GrpcServer, Dependency, grpc.aio.Channel],
) -> None:
    server, dependency, channel = probe
    assert await _status(channel) == health_pb2.HealthCheckResponse.NOT_SERVING
    dependency.up = True
    await _wait_for(channel, health_pb2.HealthCheckResponse.SERVING)
    dependency.up = False
    await _wait_for(channel, health_pb2.HealthCheckResponse.NOT_SERVING)
    dependency.up = True
    await _wait_for(channel, health_pb2.HealthCheckResponse.SERVING)
    await server.stop()
    # After shutdown began, health never claims SERVING again.
    with pytest.raises(grpc.aio.AioRpcError):
        await _status(channel)


async def test_domain_errors_keep_their_code_and_fields(
    probe: tuple[GrpcServer, Dependency, grpc.aio.Channel],
) -> None:
    _, _, channel = probe
    call = channel.unary_unary(
        f"/{SERVICE}/Expected",
        request_serializer=wrappers_pb2.StringValue.SerializeToString,
        response_deserializer=wrappers_pb2.StringValue.FromString,
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(wrappers_pb2.StringValue(value=""))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = from_rpc_error(caught.value)
    assert [v.field for v in error.violations] == ["text"]


async def test_unexpected_errors_are_masked_and_logged_without_personal_data(
    probe: tuple[GrpcServer, Dependency, grpc.aio.Channel], caplog: pytest.LogCaptureFixture
) -> None:
    _, _, channel = probe
    call = channel.unary_unary(
        f"/{SERVICE}/Unexpected",
        request_serializer=wrappers_pb2.StringValue.SerializeToString,
        response_deserializer=wrappers_pb2.StringValue.FromString,
    )
    with (
        caplog.at_level(logging.ERROR, logger="consilium.grpc"),
        pytest.raises(grpc.aio.AioRpcError) as caught,
    ):
        await call(wrappers_pb2.StringValue(value="x"))
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert SECRET not in caught.value.details()
    assert "trace id" in caught.value.details()
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


PERSON = "Jane Canary Doe"
_person_log = logging.getLogger("consilium.test.person")


async def _load_a_person(request: wrappers_pb2.StringValue, context: Any) -> Any:
    """Like identity loading a physician: it learns a name, logs, then fails."""
    if request.value == "load":
        also_redact([PERSON])
    _person_log.warning("looked at %s", PERSON)
    raise RuntimeError(f"no row for {PERSON}")


class _Lines(logging.Handler):
    """Formatted lines, through the filters `configure_logging` installs."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.addFilter(PersonalDataFilter())
        self.setFormatter(JsonFormatter("probe"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_names_a_call_learns_are_masked_in_its_logs_and_only_its_own() -> None:
    def add(_servicer: object, server: grpc.aio.Server) -> None:
        handler = grpc.unary_unary_rpc_method_handler(
            _load_a_person,
            request_deserializer=wrappers_pb2.StringValue.FromString,
            response_serializer=wrappers_pb2.StringValue.SerializeToString,
        )
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE, {"Load": handler}),)
        )

    server = GrpcServer(
        component="probe", bindings=[ServiceBinding(SERVICE, add, object())], address="127.0.0.1:0"
    )
    lines = _Lines()
    root = logging.getLogger()
    root.addHandler(lines)
    port = await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(
                f"/{SERVICE}/Load",
                request_serializer=wrappers_pb2.StringValue.SerializeToString,
                response_deserializer=wrappers_pb2.StringValue.FromString,
            )
            with pytest.raises(grpc.aio.AioRpcError):
                await call(wrappers_pb2.StringValue(value="load"))
            masked = list(lines.lines)
            lines.lines.clear()
            with pytest.raises(grpc.aio.AioRpcError):
                await call(wrappers_pb2.StringValue(value="another request"))
    finally:
        root.removeHandler(lines)
        await server.stop()
    assert any("looked at" in line for line in masked)
    assert any("unhandled error" in line for line in masked)
    for leak in ("Jane", "Canary", "Doe"):
        assert not any(leak in line for line in masked), leak
    # The next call learned no name: nothing of the first call's scope lingers.
    assert any(PERSON in line for line in lines.lines)
