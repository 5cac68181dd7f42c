"""Admission: the token verified once, anonymous callers limited per address before GraphQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from starlette.types import Receive, Scope, Send

from gateway.auth import Authentication, Viewer
from gateway.limits.admission import AdmissionControl, admission_of
from gateway.limits.buckets import TokenBuckets
from gateway.limits.client_address import ClientAddresses
from plumbing.auth import AccessClaims, Role, VerificationStatus
from plumbing.errors import Unauthenticated


class FakeAuthenticator:
    """`Bearer good` is a viewer; any other token is refused; none is nobody."""

    def __init__(self) -> None:
        self.calls = 0

    async def authenticate(self, authorization: str | None) -> Authentication:
        self.calls += 1
        if not authorization:
            return Authentication()
        if authorization != "Bearer good":
            return Authentication(error=Unauthenticated("bad token"))
        now = datetime.now(UTC)
        claims = AccessClaims(
            user_id="usr_a",
            roles=frozenset({Role.MEMBER}),
            verification=VerificationStatus.VERIFIED,
            issued_at=now,
            expires_at=now + timedelta(minutes=5),
            key_id="k",
        )
        return Authentication(viewer=Viewer(claims, "good"))


class Inner:
    def __init__(self) -> None:
        self.seen: list[tuple[str | None, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        admission = admission_of(scope)
        assert admission is not None
        viewer = admission.auth.viewer
        self.seen.append((viewer.user_id if viewer else None, admission.client_address))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def app(inner: Inner, authenticator: FakeAuthenticator) -> httpx.AsyncClient:
    control = AdmissionControl(
        inner,
        authenticator=authenticator,  # type: ignore[arg-type]
        addresses=ClientAddresses(),
        anonymous=TokenBuckets(2, clock=lambda: 0.0),
    )
    transport = httpx.ASGITransport(app=control, client=("203.0.113.4", 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://gw")


async def test_anonymous_callers_spend_their_address_budget_then_get_429() -> None:
    inner, authenticator = Inner(), FakeAuthenticator()
    async with app(inner, authenticator) as http:
        replies = [await http.post("/graphql", json={}) for _ in range(3)]
        # A refused token is no way around it.
        refused = await http.post("/graphql", json={}, headers={"authorization": "Bearer bad"})
        signed_in = await http.post("/graphql", json={}, headers={"authorization": "Bearer good"})
    assert [r.status_code for r in replies] == [200, 200, 429]
    assert replies[2].headers["retry-after"] == "30"
    assert replies[2].json()["errors"][0]["extensions"] == {
        "code": "RATE_LIMITED",
        "retryAfter": 30,
    }
    assert refused.status_code == 429
    assert signed_in.status_code == 200
    assert inner.seen == [(None, "203.0.113.4"), (None, "203.0.113.4"), ("usr_a", "203.0.113.4")]
    assert authenticator.calls == 5  # once per request, none again downstream
