"""Idempotency-Key: a retry is answered from the first response and runs nothing again."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from gateway.auth import Authentication, Viewer
from gateway.limits.admission import SCOPE_KEY, Admission
from gateway.limits.idempotency import REUSED, Idempotency, IdempotencyStore
from plumbing.auth import AccessClaims, Role, VerificationStatus

MUTATION = "mutation($t: String!) { createPost(input: {title: $t}) { id } }"


def viewer(user_id: str) -> Viewer:
    now = datetime.now(UTC)
    claims = AccessClaims(
        user_id=user_id,
        roles=frozenset({Role.MEMBER}),
        verification=VerificationStatus.VERIFIED,
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        key_id="k",
    )
    return Viewer(claims, f"token-{user_id}")


class Upstream:
    """Stands for GraphQL: counts runs, answers a new post id each time, may be held."""

    def __init__(self) -> None:
        self.runs = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.answer: dict[str, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.runs += 1
        await receive()
        await self.gate.wait()
        body = self.answer or {"data": {"createPost": {"id": f"pst_{self.runs}"}}}
        raw = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": raw})


class Admitted:
    """What AdmissionControl leaves in the scope: the viewer named by the test header."""

    def __init__(self, app: Idempotency) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = dict(scope["headers"]).get(b"x-test-user")
        auth = Authentication(viewer=viewer(user.decode())) if user else Authentication()
        scope[SCOPE_KEY] = Admission(auth, "192.0.2.1")
        await self.app(scope, receive, send)


def client(upstream: Upstream, store: IdempotencyStore | None = None) -> httpx.AsyncClient:
    if store is None:  # not `or`: an empty store is falsy (it has a length)
        store = IdempotencyStore(ttl=60, max_entries=100)
    app = Admitted(Idempotency(upstream, store))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


async def post(
    http: httpx.AsyncClient,
    title: str = "One",
    *,
    key: str | None = "key-1",
    user: str | None = "usr_a",
    query: str = MUTATION,
) -> httpx.Response:
    headers = {k: v for k, v in (("idempotency-key", key), ("x-test-user", user)) if v}
    body = {"query": query, "variables": {"t": title}}
    return await http.post("/graphql", json=body, headers=headers)


async def test_a_retry_gets_the_first_answer_and_runs_nothing() -> None:
    upstream = Upstream()
    async with client(upstream) as http:
        first = await post(http)
        again = await post(http)
    assert upstream.runs == 1
    assert again.json() == first.json() == {"data": {"createPost": {"id": "pst_1"}}}
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers


async def test_another_body_under_the_same_key_is_refused() -> None:
    upstream = Upstream()
    async with client(upstream) as http:
        await post(http, "One")
        reused = await post(http, "Two")
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["extensions"]["code"] == REUSED
    assert upstream.runs == 1


class WatchedStore(IdempotencyStore):
    """Tells when `waiters` requests found an entry already there (and so wait on it)."""

    def __init__(self, waiters: int) -> None:
        super().__init__(ttl=60, max_entries=100)
        self.found = 0
        self.all_waiting = asyncio.Event()
        self._waiters = waiters

    def get(self, slot: str) -> Any:
        self.found += 1
        if self.found >= self._waiters:
            self.all_waiting.set()
        return super().get(slot)


async def test_concurrent_duplicates_wait_for_the_first() -> None:
    upstream = Upstream()
    upstream.gate.clear()  # the first request runs until the test lets it answer
    store = WatchedStore(waiters=4)
    async with client(upstream, store) as http:
        requests = [asyncio.create_task(post(http)) for _ in range(5)]
        async with asyncio.timeout(5):
            await store.all_waiting.wait()
        assert upstream.runs == 1
        assert not any(r.done() for r in requests)
        upstream.gate.set()
        answers = await asyncio.gather(*requests)
    assert upstream.runs == 1
    assert {json.dumps(a.json()) for a in answers} == {json.dumps(answers[0].json())}


async def test_keys_belong_to_one_person() -> None:
    upstream = Upstream()
    async with client(upstream) as http:
        mine = await post(http, user="usr_a")
        theirs = await post(http, "Other", user="usr_b")
    assert upstream.runs == 2
    assert mine.json() != theirs.json() and theirs.status_code == 200


async def test_a_retryable_failure_is_not_kept() -> None:
    upstream = Upstream()
    upstream.answer = {"data": None, "errors": [{"extensions": {"code": "UNAVAILABLE"}}]}
    async with client(upstream) as http:
        await post(http)
        upstream.answer = None
        second = await post(http)
        third = await post(http)
    assert upstream.runs == 2
    assert second.json() == third.json() == {"data": {"createPost": {"id": "pst_2"}}}


async def test_queries_anonymous_callers_and_keyless_requests_pass_through() -> None:
    upstream = Upstream()
    async with client(upstream) as http:
        for _ in range(2):
            await post(http, query="query($t: String!) { feed(title: $t) { id } }")
            await post(http, user=None)
            await post(http, key=None)
    assert upstream.runs == 6


async def test_entries_expire_and_stay_bounded() -> None:
    now = [0.0]
    store = IdempotencyStore(ttl=60, max_entries=3, clock=lambda: now[0])
    upstream = Upstream()
    async with client(upstream, store) as http:
        await post(http)
        now[0] += 61
        await post(http, "Two")  # the key is free again: a new request
        for index in range(10):
            await post(http, key=f"k{index}")
    assert upstream.runs == 12
    assert len(store) <= 3


async def test_a_malformed_key_is_refused() -> None:
    upstream = Upstream()
    async with client(upstream) as http:
        reply = await post(http, key="x" * 256)
    assert reply.status_code == 400
    assert upstream.runs == 0
