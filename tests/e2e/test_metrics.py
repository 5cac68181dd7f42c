"""Prometheus metrics after real GraphQL requests: counters move under the right bounded labels,
and no user id, alias id, email, name, NPI or post text ever appears in an exposition."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.system import PASSWORD, System, next_npi

from plumbing.auth import Role
from plumbing.metrics.endpoint import MetricsEndpoint

CREATE = "mutation($i: CreatePostInput!) { createPost(input: $i) { id author { aliasId } } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def scrape() -> AsyncIterator[MetricsEndpoint]:
    endpoint = MetricsEndpoint("127.0.0.1", 0)
    await endpoint.start()
    yield endpoint
    await endpoint.stop()


async def _text(endpoint: MetricsEndpoint) -> str:
    async with httpx.AsyncClient() as http:
        reply = await http.get(f"http://127.0.0.1:{endpoint.port}/metrics")
    assert reply.status_code == 200
    return reply.text


def _samples(text: str) -> Samples:
    """Every consilium_* sample: (name, sorted labels) -> value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("consilium_")
        for s in family.samples
    }


def _delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def _flow(system: System, tag: str) -> list[str]:
    """A privacy-canary-ish flow: canary identity fields, an anonymous post, a comment, a
    reaction, the feed, search, the post page, a reveal; returns every private string used."""
    email, name, npi = f"metrics.{tag}@canary-clinic.example", f"Dr. Canary {tag}", next_npi()
    staff_id, staff = await system.account(Role.ADMIN, Role.MODERATOR)
    member_id, _ = await system.register(email=email, fullName=name, npi=npi)
    await system.graphql(
        "mutation($u: ID!) { verifyPhysician(userId: $u, approve: true) { id } }",
        {"u": member_id},
        token=staff,
    )
    member = (await system.graphql(LOGIN, {"e": email, "p": PASSWORD}))["data"]["login"]["token"]
    title = f"Canary title {tag}"
    post = (
        await system.graphql(
            CREATE,
            {
                "i": {
                    "kind": "DISCUSSION",
                    "community": "lounge-stories",
                    "title": title,
                    "body": f"Canary body {tag}",
                    "visibility": "ANONYMOUS",
                }
            },
            token=member,
        )
    )["data"]["createPost"]
    comment = await system.graphql(
        "mutation($i: AddCommentInput!) { addComment(input: $i) { id author { aliasId } } }",
        {"i": {"postId": post["id"], "body": f"Canary comment {tag}"}},
        token=member,
    )
    await system.graphql(
        "mutation($p: ID!) { react(postId: $p, reaction: LIKE) { id } }",
        {"p": post["id"]},
        token=member,
    )
    await system.graphql("{ feed(first: 5) { nodes { id title } } }", token=member)
    await system.graphql(
        "query($t: String!) { search(text: $t) { nodes { id } } }", {"t": title}, token=member
    )
    await system.graphql(
        "query($p: ID!) { post(id: $p) { title author { aliasId handle } } }",
        {"p": post["id"]},
        token=member,
    )
    await system.graphql(
        'mutation($a: ID!) { revealAuthor(aliasId: $a, purpose: "metrics test") { fullName } }',
        {"a": post["author"]["aliasId"]},
        token=staff,
    )
    # A wrong password: identity answers UNAUTHENTICATED, the gateway reports it.
    await system.graphql(LOGIN, {"e": email, "p": "wrong " + PASSWORD}, expect_errors=True)
    alias_ids = [post["author"]["aliasId"], comment["data"]["addComment"]["author"]["aliasId"]]
    return [staff_id, member_id, email, name, npi, title, post["id"], *alias_ids]


async def test_counters_move_under_their_codes_and_carry_nothing_personal(
    system: System, scrape: MetricsEndpoint
) -> None:
    before = _samples(await _text(scrape))
    private = await _flow(system, "first")
    text = await _text(scrape)
    after = _samples(text)

    # A gRPC error counted under its code, on the server and by the calling gateway.
    login = "/consilium.identity.v1.IdentityService/Login"
    identity = "consilium.identity.v1.IdentityService"
    content = "consilium.content.v1.ContentService"
    for name in ("consilium_grpc_server_requests_total", "consilium_grpc_server_errors_total"):
        assert _delta(before, after, name, method=login, code="UNAUTHENTICATED") == 1, name
    assert _delta(
        before, after, "consilium_upstream_requests_total",
        service=identity, method="Login", code="UNAUTHENTICATED",
    ) == 1  # fmt: skip
    # Upstream calls and their latency, by service and method.
    assert _delta(
        before, after, "consilium_upstream_requests_total",
        service=content, method="CreatePost", code="OK",
    ) == 1  # fmt: skip
    assert _delta(
        before, after, "consilium_upstream_request_duration_seconds_count",
        service=content, method="CreatePost",
    ) == 1  # fmt: skip
    assert _delta(
        before, after, "consilium_grpc_server_requests_total",
        method=f"/{content}/CreatePost", code="OK",
    ) == 1  # fmt: skip
    # GraphQL operations by type and root field, errors by code.
    for operation, outcome in (("login", "error"), ("createPost", "ok"), ("revealAuthor", "ok")):
        assert _delta(
            before, after, "consilium_graphql_requests_total",
            operation_type="mutation", operation=operation, outcome=outcome,
        ) == 1, operation  # fmt: skip
    for operation in ("feed", "search", "post"):
        assert _delta(
            before, after, "consilium_graphql_request_duration_seconds_count",
            operation_type="query", operation=operation,
        ) == 1, operation  # fmt: skip
    assert _delta(before, after, "consilium_graphql_errors_total", code="UNAUTHENTICATED") == 1

    # Nothing personal, and no id of any kind, anywhere in the exposition.
    for value in private:
        assert value not in text, value
    # Label values are names from the code (methods, fields, codes, topics): no digits but a
    # version's, where every generated id (uuid, base64, hex, numbers) has some.
    # (Only the series this flow made or moved: the registry is the test process's, shared
    # with whatever ran before in it.)
    for _, labels in [key for key, value in after.items() if before.get(key) != value]:
        for label, value in labels:
            if label not in ("le", "partition"):
                assert not re.search(r"\d", re.sub(r"\.v\d+\b", "", value)), (label, value)
                assert len(value) <= 80, (label, value)

    # Refused before GraphQL runs (a body over the limit): still counted by its code.
    too_large = await system.http.post(
        system.gateway_url,
        content=b"{" + b" " * 70_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert too_large.status_code == 413
    refused = _samples(await _text(scrape))
    assert _delta(after, refused, "consilium_graphql_errors_total", code="PAYLOAD_TOO_LARGE") == 1
    after = refused

    # Bounded: the same flow by new people adds no series at all.
    await _flow(system, "second")
    again = _samples(await _text(scrape))
    assert set(again) == set(after), sorted(set(again) ^ set(after))
