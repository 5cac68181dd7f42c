"""Clients do not steer trace context (issue 9, finding 7; A3).

A client sends a `traceparent` of its choosing, a `tracestate` and `baggage` holding a canary
email. Nothing of it may reach any upstream's metadata; the gateway starts its own trace,
answers its id in `traceresponse`, and the audit events of the request carry that id.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.recording import RecordingInterceptor, record_servers
from support.system import System, run_system
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from plumbing.auth import Role

CANARY = "trace.canary.7f3a@example.org"
TRACERESPONSE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
CREATE = "mutation($i: CreatePostInput!) { createPost(input: $i) { id author { aliasId } } }"
REVEAL = "mutation($a: ID!, $p: String!) { revealAuthor(aliasId: $a, purpose: $p) { id } }"
POST_INPUT = {
    "kind": "DISCUSSION",
    "community": "lounge-stories",
    "title": "Night shift",
    "body": "Notes.",
    "visibility": "ANONYMOUS",
}
AUDIT = """query($f: AuditFilter) { auditEvents(filter: $f) { nodes { producer traceId } } }"""


@pytest.fixture
async def recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[System, RecordingInterceptor]]:
    recorder = record_servers(monkeypatch)
    async with run_system(tmp_path / "data", events=True) as system:
        yield system, recorder


def client_headers(token: str, client_trace: str) -> dict[str, str]:
    return {
        "authorization": f"Bearer {token}",
        "traceparent": f"00-{client_trace}-{uuid.uuid4().hex[:16]}-01",
        "tracestate": f"vendor={CANARY}",
        "baggage": f"user.email={CANARY},session=abc",
    }


async def send(
    system: System, query: str, variables: dict[str, Any], **headers: str
) -> httpx.Response:
    reply = await system.http.post(
        system.gateway_url, json={"query": query, "variables": variables}, headers=headers
    )
    assert reply.status_code == 200, reply.text
    assert reply.json().get("errors") is None, reply.text
    return reply


def trace_of(call: Any) -> str:
    (parent,) = [str(v) for k, v in call.metadata if k == "traceparent"]
    return parent.split("-")[1]


def own_trace_id(reply: httpx.Response) -> str:
    match = TRACERESPONSE.match(reply.headers.get("traceresponse", ""))
    assert match is not None, reply.headers
    return match.group(1)


async def audited(system: System, token: str, trace_id: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        body = await system.graphql(AUDIT, {"f": {"traceId": trace_id}}, token=token)
        nodes: list[dict[str, Any]] = body["data"]["auditEvents"]["nodes"]
        if len(nodes) >= count:
            return nodes
        assert time.monotonic() < deadline, "the audit events never reached the ledger"
        await asyncio.sleep(0.1)


async def test_client_trace_context_never_travels_and_audit_carries_traceresponse(
    recorded: tuple[System, RecordingInterceptor],
) -> None:
    system, recorder = recorded
    _, author = await system.account()
    _, moderator = await system.account(Role.MODERATOR)
    _, auditor = await system.account(Role.AUDITOR)
    before = len(recorder.calls)

    client_trace = uuid.uuid4().hex
    post_input = {
        "kind": "DISCUSSION",
        "community": "lounge-stories",
        "title": "Night shift",
        "body": "Notes.",
        "visibility": "ANONYMOUS",
    }
    created = await send(system, CREATE, {"i": post_input}, **client_headers(author, client_trace))
    alias_id = created.json()["data"]["createPost"]["author"]["aliasId"]
    revealed = await send(
        system,
        REVEAL,
        {"a": alias_id, "p": "credible threat report"},
        **client_headers(moderator, client_trace),
    )

    calls = recorder.calls[before:]
    services = {c.service for c in calls}
    assert "consilium.content.v1.ContentService" in services
    assert "consilium.anonymity.v1.AnonymityService" in services
    assert "consilium.identity.v1.IdentityService" in services
    for call in calls:
        keys = {k for k, _ in call.metadata}
        assert not keys & {"tracestate", "baggage"}, (call.method, call.metadata)
        flat = repr(call.metadata)
        assert CANARY not in flat and client_trace not in flat, (call.method, call.metadata)
    own = {own_trace_id(created), own_trace_id(revealed)}
    assert client_trace not in own, "the gateway continued the client's trace"
    for call in calls:
        (parent,) = [str(v) for k, v in call.metadata if k == "traceparent"]
        assert parent.split("-")[1] in own, (call.method, parent)

    # A3: the reveal's audit events carry the gateway's trace id from traceresponse.
    events = await audited(system, auditor, own_trace_id(revealed), count=2)
    assert sorted(e["producer"] for e in events) == ["anonymity", "identity"]
    assert not (await system.graphql(AUDIT, {"f": {"traceId": client_trace}}, token=auditor))[
        "data"
    ]["auditEvents"]["nodes"]


async def test_every_http_response_names_its_trace(system: System) -> None:
    ok = await system.http.post(system.gateway_url, json={"query": "{ communities { id } }"})
    bad = await system.http.post(system.gateway_url, json={"query": "{ nope }"})
    huge = await system.http.post(system.gateway_url, content=b"x" * (1024 * 1024))
    ids = [own_trace_id(reply) for reply in (ok, bad, huge)]
    assert huge.status_code == 413
    assert len(set(ids)) == 3, "each request is its own trace"


async def test_websocket_operations_each_start_their_own_trace(
    recorded: tuple[System, RecordingInterceptor],
) -> None:
    system, recorder = recorded
    _, author = await system.account()
    client_trace = uuid.uuid4().hex
    headers = client_headers(author, client_trace)
    del headers["authorization"]
    url = system.gateway_url.replace("http://", "ws://", 1)
    traces = []
    async with connect(
        url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers=headers,
        proxy=None,
        open_timeout=10,
    ) as sock:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {author}"}}
        await sock.send(json.dumps(init))
        async with asyncio.timeout(10):
            assert json.loads(await sock.recv())["type"] == "connection_ack"
        for op in ("one", "two"):
            before = len(recorder.calls)
            payload = {"query": CREATE, "variables": {"i": {**POST_INPUT, "title": op}}}
            await sock.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
            messages = []
            async with asyncio.timeout(10):
                while not messages or messages[-1]["type"] not in ("complete", "error"):
                    messages.append(json.loads(await sock.recv()))
            assert [m["type"] for m in messages] == ["next", "complete"], messages
            assert "errors" not in messages[0]["payload"], messages
            calls = recorder.calls[before:]
            assert calls
            for call in calls:
                assert CANARY not in repr(call.metadata) and client_trace not in repr(call.metadata)
                assert not {k for k, _ in call.metadata} & {"tracestate", "baggage"}
            traces.append({trace_of(c) for c in calls})
    (first,), (second,) = traces
    assert first != second, "two operations of one connection share no trace"
