"""The server interceptor builds a method's wrapper once, yet each call sees only its own
caller: metadata, admission and (for content) the stripping of metadata are per call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
import pytest

from plumbing.errors import Unauthenticated
from plumbing.grpc.caller import caller_token
from plumbing.grpc.interceptors import ServiceInterceptor

METHOD = "/consilium.test.v1.Probe/Echo"


class Details:
    def __init__(self, metadata: Sequence[tuple[str, str]]) -> None:
        self.method = METHOD
        self.invocation_metadata = tuple(metadata)


class Context:
    def __init__(self, metadata: Sequence[tuple[str, str]]) -> None:
        self._metadata = tuple(metadata)

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    async def abort_with_status(self, status: Any) -> None:
        raise grpc.aio.AbortError()

    async def abort(self, code: Any, details: str) -> None:
        raise grpc.aio.AbortError()


async def _echo_token(request: object, context: object) -> str | None:
    return caller_token()


HANDLER = grpc.unary_unary_rpc_method_handler(_echo_token)


async def _continuation(details: object) -> Any:
    return HANDLER


class OnlyAlice:
    def __init__(self) -> None:
        self.checked: list[tuple[str, ...]] = []

    def check(self, method: str, metadata: Sequence[tuple[str, str | bytes]] | None) -> object:
        token = dict(metadata or ()).get("authorization", "")
        self.checked.append((method, str(token)))
        if token != "Bearer alice":
            raise Unauthenticated("not alice")
        return token


async def _call(interceptor: ServiceInterceptor, token: str) -> Any:
    metadata = [("authorization", f"Bearer {token}")]
    handler = await interceptor.intercept_service(_continuation, Details(metadata))
    return handler, await handler.unary_unary(None, Context(metadata))


async def test_the_wrapper_is_reused_and_each_call_sees_its_own_caller() -> None:
    interceptor = ServiceInterceptor()
    first, alice = await _call(interceptor, "alice")
    again, bob = await _call(interceptor, "bob")
    assert first is again
    assert (alice, bob) == ("alice", "bob")
    assert caller_token() is None  # nothing left behind after the calls


async def test_content_never_sees_metadata_and_every_call_is_admitted_anew() -> None:
    callers = OnlyAlice()
    interceptor = ServiceInterceptor(keep_metadata=False, callers=callers)
    _, seen = await _call(interceptor, "alice")
    assert seen is None  # admitted, yet the handler sees no metadata
    with pytest.raises(grpc.aio.AbortError):
        await _call(interceptor, "mallory")  # the reused wrapper still checks this call
    assert callers.checked == [(METHOD, "Bearer alice"), (METHOD, "Bearer mallory")]
