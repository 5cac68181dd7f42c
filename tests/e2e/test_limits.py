"""Limits through the gateway: sign-in throttling (identity), writes per person, anonymous
callers per address, and Idempotency-Key retries, with every clock driven by the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.system import PASSWORD, System, run_system

from gateway.limits.buckets import TokenBuckets
from gateway.limits.client_address import ClientAddresses
from gateway.limits.idempotency import IdempotencyStore
from gateway.limits.policy import GatewayLimits
from gateway.limits.writes import WriteLimit
from gateway.settings import parse_networks

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
CREATE = "mutation($i: CreatePostInput!) { createPost(input: $i) { id author { aliasId } } }"
COMMENT = "mutation($i: AddCommentInput!) { addComment(input: $i) { id author { aliasId } } }"
REACT = "mutation($p: ID!) { react(postId: $p, reaction: LIKE) { id } }"
WRITES_PER_MINUTE = 3


@dataclass
class Clock:
    """One time for identity (datetime) and the gateway's limits (monotonic seconds)."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 29, 12, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Limited:
    system: System
    clock: Clock

    async def send(
        self,
        query: str,
        variables: dict[str, Any],
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token:
            sent["authorization"] = f"Bearer {token}"
        return await self.system.http.post(
            self.system.gateway_url, json={"query": query, "variables": variables}, headers=sent
        )

    async def login(self, email: str, password: str, via: str | None = None) -> httpx.Response:
        headers = {"x-forwarded-for": via} if via else None
        return await self.send(LOGIN, {"e": email, "p": password}, headers=headers)


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[Limited]:
    clock = Clock()
    limits = GatewayLimits(
        writes=WriteLimit(TokenBuckets(WRITES_PER_MINUTE, clock=clock.seconds), WRITES_PER_MINUTE),
        anonymous=TokenBuckets(1000, clock=clock.seconds),
        # The test's requests come from loopback, standing for a proxy: its header is believed.
        addresses=ClientAddresses(parse_networks("127.0.0.1")),
        idempotency=IdempotencyStore(ttl=3600, max_entries=100, clock=clock.seconds),
    )
    async with run_system(
        tmp_path / "data",
        identity_clock=clock,
        identity_settings={
            "login_address_attempts": 3,
            "login_email_attempts": 6,
            "login_backoff_seconds": 60.0,
        },
        limits=limits,
    ) as system:
        yield Limited(system, clock)


def outcome(reply: httpx.Response) -> tuple[str, int | None, str | None]:
    """OK, or the error code, with `extensions.retryAfter` and the Retry-After header."""
    body = reply.json()
    if not body.get("errors"):
        return "OK", None, None
    (error,) = body["errors"]
    extensions = error["extensions"]
    return extensions["code"], extensions.get("retryAfter"), reply.headers.get("retry-after")


WRONG = "certainly not the password"
FAILED = ("UNAUTHENTICATED", None, None)
OK = ("OK", None, None)


def throttled(seconds: int) -> tuple[str, int, str]:
    return "RATE_LIMITED", seconds, str(seconds)


async def test_login_brute_force_meets_rate_limited_for_the_configured_time(
    limited: Limited,
) -> None:
    await limited.system.account(email="doctor.brute@example.org")
    await limited.system.account(email="bystander@example.org")
    email = "doctor.brute@example.org"
    for _ in range(3):
        assert outcome(await limited.login(email, WRONG, via="198.51.100.7")) == FAILED
    # The right password is refused while throttled, for the configured 60 s.
    assert outcome(await limited.login(email, PASSWORD, via="198.51.100.7")) == throttled(60)
    limited.clock.advance(45)
    assert outcome(await limited.login(email, PASSWORD, via="198.51.100.7")) == throttled(15)
    # Other accounts, from that very address, are not touched.
    assert outcome(await limited.login("bystander@example.org", PASSWORD, "198.51.100.7")) == OK
    # The doctor, from elsewhere, still signs in: the guesser's address alone waits.
    assert outcome(await limited.login(email, PASSWORD, via="192.0.2.80")) == OK
    limited.clock.advance(15)
    assert outcome(await limited.login(email, PASSWORD, via="198.51.100.7")) == OK


async def test_the_email_wide_threshold_stops_a_spread_guesser_everywhere(
    limited: Limited,
) -> None:
    await limited.system.account(email="spread@example.org")
    for index in range(6):
        reply = await limited.login("spread@example.org", WRONG, via=f"203.0.113.{index % 3}")
        assert outcome(reply) == FAILED
    assert outcome(await limited.login("spread@example.org", PASSWORD, "192.0.2.81")) == (
        throttled(60)
    )


async def test_unknown_emails_are_throttled_like_known_ones(limited: Limited) -> None:
    await limited.system.account(email="known@example.org")

    async def story(email: str) -> list[tuple[str, int | None, str | None]]:
        return [outcome(await limited.login(email, WRONG, via="198.51.100.9")) for _ in range(5)]

    known = await story("known@example.org")
    assert known == [FAILED] * 3 + [throttled(60)] * 2
    assert await story("nobody@example.org") == known


def discussion(visibility: str, title: str) -> dict[str, Any]:
    return {
        "i": {
            "kind": "DISCUSSION",
            "community": "lounge-stories",
            "title": title,
            "body": "Rate limit test.",
            "visibility": visibility,
        }
    }


async def count_posts(system: System, title: str) -> int:
    body = await system.graphql(
        "{ feed(first: 50) { nodes { title } } }", token=await system.reader()
    )
    return sum(1 for node in body["data"]["feed"]["nodes"] if node["title"] == title)


async def test_a_write_flood_is_cut_at_the_per_person_limit(limited: Limited) -> None:
    _, flooder = await limited.system.account()
    _, neighbour = await limited.system.account()
    replies = [
        await limited.send(CREATE, discussion("PSEUDONYMOUS", "Flood"), token=flooder)
        for _ in range(5)
    ]
    codes = [outcome(r)[0] for r in replies]
    assert codes == ["OK"] * WRITES_PER_MINUTE + ["RATE_LIMITED"] * 2
    # 3 a minute is one every 20 s; the budget was just spent.
    assert outcome(replies[-1])[1:] == (20, "20")
    assert await count_posts(limited.system, "Flood") == WRITES_PER_MINUTE
    # Someone else writes as usual.
    reply = await limited.send(CREATE, discussion("PSEUDONYMOUS", "Neighbour"), token=neighbour)
    assert outcome(reply) == OK
    # And the flooder again, once a token is back.
    limited.clock.advance(20)
    reply = await limited.send(CREATE, discussion("PSEUDONYMOUS", "Flood"), token=flooder)
    assert outcome(reply) == OK


async def test_all_aliases_of_one_person_share_one_budget(limited: Limited) -> None:
    _, token = await limited.system.account()
    first = await limited.send(CREATE, discussion("PSEUDONYMOUS", "Shared"), token=token)
    post = first.json()["data"]["createPost"]
    second = await limited.send(CREATE, discussion("ANONYMOUS", "Shared"), token=token)
    other = second.json()["data"]["createPost"]
    comment = await limited.send(
        COMMENT,
        {"i": {"postId": other["id"], "body": "Hm.", "visibility": "IDENTIFIED"}},
        token=token,
    )
    aliases = {
        post["author"]["aliasId"],
        other["author"]["aliasId"],
        comment.json()["data"]["addComment"]["author"]["aliasId"],
    }
    assert len(aliases) == 3  # three aliases, one person
    # The fourth write, under yet another (per-thread) alias, meets the same budget.
    assert outcome(await limited.send(REACT, {"p": post["id"]}, token=token))[0] == "RATE_LIMITED"


async def test_anonymous_callers_are_limited_per_address_and_the_header_is_not_believed(
    tmp_path: Path,
) -> None:
    async with run_system(tmp_path / "data", anonymous_requests_per_minute=2) as system:
        _, token = await system.account()  # its login spent one of loopback's two
        query = {"query": "{ specialties { code } }"}
        assert (await system.http.post(system.gateway_url, json=query)).status_code == 200
        # No trusted proxies configured: a forged X-Forwarded-For buys no fresh budget.
        refused = await system.http.post(
            system.gateway_url, json=query, headers={"x-forwarded-for": "198.51.100.99"}
        )
        assert refused.status_code == 429
        # Two a minute: a token every 30 s, less the (real) time since the first was spent.
        wait = int(refused.headers["retry-after"])
        assert 0 < wait <= 30
        assert refused.json()["errors"][0]["extensions"] == {
            "code": "RATE_LIMITED",
            "retryAfter": wait,
        }
        signed_in = await system.http.post(
            system.gateway_url, json=query, headers={"authorization": f"Bearer {token}"}
        )
        assert signed_in.status_code == 200


async def test_an_idempotent_retry_returns_the_same_post_and_content_holds_one(
    limited: Limited,
) -> None:
    _, token = await limited.system.account()
    headers = {"idempotency-key": "3f1c2a9e-retry-once"}
    variables = discussion("ANONYMOUS", "Exactly once")
    first = await limited.send(CREATE, variables, token=token, headers=headers)
    retry = await limited.send(CREATE, variables, token=token, headers=headers)
    assert outcome(first) == OK
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert await count_posts(limited.system, "Exactly once") == 1
    # The retry spent no write either: two more fit in the budget of three.
    for title in ("Other 1", "Other 2"):
        reply = await limited.send(CREATE, discussion("ANONYMOUS", title), token=token)
        assert outcome(reply) == OK
    reused = await limited.send(
        CREATE, discussion("ANONYMOUS", "Another body"), token=token, headers=headers
    )
    assert reused.status_code == 422
    assert outcome(reused)[0] == "IDEMPOTENCY_KEY_REUSED"
