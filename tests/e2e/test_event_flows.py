"""Issue 6's flows end to end through GraphQL, over the embedded bus and over real Kafka:
identity -> anonymity -> content via events, audit events with the request's trace id."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from support.system import PASSWORD, System, run_system

from consilium.audit.v1 import audit_pb2
from consilium.events.v1 import audit_events_pb2
from plumbing.auth import Role
from plumbing.events.factory import create_bus
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS
from services.anonymity.adapters.tables import user_keys, verified_counts
from services.anonymity.vault import Vault

CREATE = """mutation($input: CreatePostInput!) { createPost(input: $input) {
  id author { aliasId } } }"""
FEED = "{ feed(first: 50) { nodes { id author { aliasId verifiedPhysician specialty } } } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"


RECORDED = audit_events_pb2.IdentityAccessRecorded.DESCRIPTOR.full_name


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
async def evented(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[System]:
    bootstrap = request.getfixturevalue("kafka_bootstrap") if request.param == "kafka" else None
    async with run_system(
        tmp_path / "data", events=True, kafka_bootstrap=bootstrap, k_anonymity=2
    ) as system:
        yield system


async def eventually(check: Callable[[], Awaitable[bool]], wait: float = 30) -> None:
    """Polls `check` until it holds; events are asynchronous, so flows settle, not return."""
    deadline = time.monotonic() + wait
    while not await check():
        assert time.monotonic() < deadline, "the flow did not settle in time"
        await asyncio.sleep(0.1)


def post_input(title: str, visibility: str) -> dict[str, Any]:
    return {
        "input": {
            "kind": "DISCUSSION",
            "community": "lounge-stories",
            "title": title,
            "body": "Shift notes.",
            "visibility": visibility,
        }
    }


async def feed(system: System) -> dict[str, dict[str, Any]]:
    body = await system.graphql(FEED, token=await system.reader())
    return {n["id"]: n for n in body["data"]["feed"]["nodes"]}


async def write_banned(system: System, user_id: str) -> bool:
    """Whether anonymity has the person's write ban (it refuses them an alias for writing)."""
    owner_index = Vault(system.anonymity.keys).owner_index(user_id)
    async with system.anonymity.engine.connect() as conn:
        query = select(user_keys.c.suspended).where(user_keys.c.owner_index == owner_index)
        return bool(await conn.scalar(query))


async def verified_count(system: System, specialty: str) -> int:
    """VERIFIED members of `specialty` as anonymity counts them for k-anonymity."""
    async with system.anonymity.engine.connect() as conn:
        query = select(verified_counts.c.verified).where(
            verified_counts.c.specialty_code == specialty
        )
        return int(await conn.scalar(query) or 0)


async def verified_member(
    system: System, admin: str, specialty: str = "207RC0000X"
) -> tuple[str, str]:
    """Registers, is verified by the admin (an event), signs in again for a VERIFIED token."""
    email = f"{uuid.uuid4().hex[:10]}@example.org"
    user_id, _ = await system.register(email=email, specialty=specialty)
    await system.graphql(
        "mutation($u: ID!) { verifyPhysician(userId: $u, approve: true) { id } }",
        {"u": user_id},
        token=admin,
    )
    token = (await system.graphql(LOGIN, {"e": email, "p": PASSWORD}))["data"]["login"]["token"]
    return user_id, token


async def test_verification_reaches_personas_under_k_anonymity(evented: System) -> None:
    _, admin = await evented.account(Role.ADMIN)
    _, first = await verified_member(evented, admin, "2084N0400X")

    async def one_counted() -> bool:
        return await verified_count(evented, "2084N0400X") == 1

    await eventually(one_counted)
    post = (
        await evented.graphql(CREATE, post_input("Neuro question", "PSEUDONYMOUS"), token=first)
    )["data"]["createPost"]
    author = (await feed(evented))[post["id"]]["author"]
    assert author["verifiedPhysician"] and author["specialty"] is None, "k=2, one verified"
    await verified_member(evented, admin, "2084N0400X")

    async def two_counted() -> bool:
        return await verified_count(evented, "2084N0400X") == 2

    await eventually(two_counted)
    # K is checked when an alias is made: the new thread's alias shows the specialty, the
    # pseudonym made before keeps the face it was made with (personas are frozen, P2).
    later = (await evented.graphql(CREATE, post_input("Neuro again", "ANONYMOUS"), token=first))[
        "data"
    ]["createPost"]
    authors = await feed(evented)
    assert authors[later["id"]]["author"]["specialty"] is not None
    assert authors[post["id"]]["author"]["specialty"] is None


async def test_moderator_suspension_hides_one_alias_and_stops_the_person(
    evented: System,
) -> None:
    _, admin = await evented.account(Role.ADMIN)
    user_id, author = await verified_member(evented, admin)
    named = (
        await evented.graphql(CREATE, post_input("Pseudonymous", "PSEUDONYMOUS"), token=author)
    )["data"]["createPost"]
    anon = (await evented.graphql(CREATE, post_input("Anonymous", "ANONYMOUS"), token=author))[
        "data"
    ]["createPost"]
    _, moderator = await evented.account(Role.MODERATOR)
    await evented.graphql(
        'mutation($a: ID!) { suspendAuthor(aliasId: $a, reason: "spam") }',
        {"a": anon["author"]["aliasId"]},
        token=moderator,
    )

    async def acted_hidden() -> bool:
        return anon["id"] not in await feed(evented)

    await eventually(acted_hidden)
    assert named["id"] in await feed(evented), "the person's other aliases are not touched"
    assert await write_banned(evented, user_id)
    refused = await evented.graphql(
        CREATE, post_input("Still here", "PSEUDONYMOUS"), token=author, expect_errors=True
    )
    codes = [e["extensions"]["code"] for e in refused["errors"]]
    assert codes and set(codes) <= {"FAILED_PRECONDITION", "FORBIDDEN"}, codes
    await evented.graphql(
        "mutation($u: ID!) { reinstatePhysician(userId: $u) { verification } }",
        {"u": user_id},
        token=admin,
    )

    async def may_write() -> bool:
        return not await write_banned(evented, user_id)

    await eventually(may_write)
    again = (await evented.graphql(CREATE, post_input("Back", "PSEUDONYMOUS"), token=author))[
        "data"
    ]["createPost"]
    assert again["author"]["aliasId"] == named["author"]["aliasId"]
    assert anon["id"] not in await feed(evented), "an account's reinstatement shows no alias"


async def test_erasure_orphans_the_aliases_and_keeps_the_posts(evented: System) -> None:
    _, admin = await evented.account(Role.ADMIN)
    user_id, author = await verified_member(evented, admin)
    post = (await evented.graphql(CREATE, post_input("Before I go", "ANONYMOUS"), token=author))[
        "data"
    ]["createPost"]
    await evented.graphql(
        "mutation($u: ID!) { eraseAccount(userId: $u) }", {"u": user_id}, token=author
    )
    _, moderator = await evented.account(Role.MODERATOR)
    reveal = 'mutation($a: ID!) { revealAuthor(aliasId: $a, purpose: "legal request") { id } }'

    async def unrevealable() -> bool:
        body = await evented.graphql(
            reveal, {"a": post["author"]["aliasId"]}, token=moderator, expect_errors=True
        )
        codes = [e["extensions"]["code"] for e in body.get("errors", [])]
        return codes == ["FAILED_PRECONDITION"]

    await eventually(unrevealable)
    assert post["id"] in await feed(evented), "erasure keeps the posts"


async def test_reveal_is_audited_with_the_gateways_trace_id(evented: System) -> None:
    _, admin = await evented.account(Role.ADMIN)
    _, author = await verified_member(evented, admin)
    post = (await evented.graphql(CREATE, post_input("Audit me", "ANONYMOUS"), token=author))[
        "data"
    ]["createPost"]
    moderator_id, moderator = await evented.account(Role.MODERATOR)
    client_trace = uuid.uuid4().hex
    reply = await evented.http.post(
        evented.gateway_url,
        json={
            "query": 'mutation($a: ID!) { revealAuthor(aliasId: $a, purpose: "threat") { id } }',
            "variables": {"a": post["author"]["aliasId"]},
        },
        headers={
            "authorization": f"Bearer {moderator}",
            "traceparent": f"00-{client_trace}-{uuid.uuid4().hex[:16]}-01",
        },
    )
    assert reply.json().get("errors") is None, reply.text
    # A3: the gateway starts its own trace (the client's is only a link) and names it.
    trace_id = reply.headers["traceresponse"].split("-")[1]
    assert trace_id != client_trace

    bus = create_bus(
        kafka_bootstrap=evented.kafka_bootstrap, data_dir=evented.data_dir, client_id="auditor-test"
    )
    await bus.start()
    found: list[audit_pb2.AuditEvent] = []
    try:
        subscription = await bus.subscribe(
            group=f"audit-test-{uuid.uuid4().hex[:6]}", topics=[AUDIT_IDENTITY_ACCESS]
        )
        deadline = time.monotonic() + 30
        while not found and time.monotonic() < deadline:
            for record in await subscription.fetch(max_records=500, wait=0.5):
                if record.event is None or record.event.type != RECORDED:
                    continue  # producers' signed heads share the topic
                audit = record.event.decode(audit_events_pb2.IdentityAccessRecorded).event
                if audit.trace_id == trace_id and audit.producer == "anonymity":
                    found.append(audit)
        await subscription.close()
    finally:
        await bus.close()
    assert len(found) == 1, "exactly one REVEAL_ALIAS event for the reveal"
    (event,) = found
    assert event.actor_id == moderator_id
    assert event.purpose == "threat"
    assert event.decision == audit_pb2.DECISION_GRANTED
    assert event.span_id, "the span id travels too"
