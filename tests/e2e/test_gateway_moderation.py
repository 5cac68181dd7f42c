"""Moderation on one alias at a time through GraphQL, and refusals recorded where they happen.

`hideAlias`/`unhideAlias` hide or show one alias (the account untouched), `reinstateAuthor`
undoes `suspendAuthor`; hiding reaches content only as anonymity's event, so these systems
run events. A member's attempt is not refused by the gateway but by anonymity, which owns
the access and records the refusal (issue 10, finding 2): an auditor sees it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.system import System, run_system

from plumbing.auth import Role

CREATE = """mutation($input: CreatePostInput!) { createPost(input: $input) {
  id author { aliasId } } }"""
FEED = "{ feed(first: 50) { nodes { id } } }"
ACT = "mutation($a: ID!, $r: String!) {{ {name}(aliasId: $a, reason: $r) }}"
AUDIT_EVENTS = """query($f: AuditFilter) { auditEvents(filter: $f, first: 50) {
  nodes { id producer actorId actorRole subjectId action purpose decision denialReason } } }"""


@pytest.fixture
async def evented(tmp_path: Path) -> AsyncIterator[System]:
    async with run_system(tmp_path / "data", events=True) as system:
        yield system


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def post(system: System, token: str, visibility: str = "ANONYMOUS") -> tuple[str, str]:
    """A new discussion; returns (post id, author alias id)."""
    body = await system.graphql(
        CREATE,
        {
            "input": {
                "kind": "DISCUSSION",
                "community": "lounge-stories",
                "title": "Night shift",
                "body": "A quiet night, for once.",
                "visibility": visibility,
            }
        },
        token=token,
    )
    created = body["data"]["createPost"]
    return created["id"], created["author"]["aliasId"]


async def act(
    system: System, name: str, alias_id: str, reason: str, token: str, **kw: Any
) -> dict[str, Any]:
    return await system.graphql(
        ACT.format(name=name), {"a": alias_id, "r": reason}, token=token, **kw
    )


async def feed_shows(system: System, post_id: str, shown: bool) -> None:
    """Waits (bounded) until a reader's feed shows, or no longer shows, `post_id`."""
    deadline = time.monotonic() + 30
    while True:
        body = await system.graphql(FEED, token=await system.reader())
        if (post_id in [n["id"] for n in body["data"]["feed"]["nodes"]]) is shown:
            return
        assert time.monotonic() < deadline, (
            f"the post never became {'shown' if shown else 'hidden'}"
        )
        await asyncio.sleep(0.1)


async def ledger(system: System, auditor: str, where: dict[str, Any], count: int) -> list[Any]:
    """anonymity's events matching `where`, once there are `count` (ingestion is async).

    anonymity's only: each of these queries is an event of producer audit on the same subject.
    """
    deadline = time.monotonic() + 30
    while True:
        body = await system.graphql(
            AUDIT_EVENTS, {"f": {**where, "producer": "anonymity"}}, token=auditor
        )
        nodes: list[Any] = body["data"]["auditEvents"]["nodes"]
        if len(nodes) >= count:
            return nodes
        assert time.monotonic() < deadline, f"only {len(nodes)} of {count} events in the ledger"
        await asyncio.sleep(0.1)


async def test_hide_alias_hides_one_alias_and_unhide_brings_it_back(evented: System) -> None:
    _, author = await evented.account()
    hidden_post, alias = await post(evented, author)
    other_post, other_alias = await post(evented, author, "PSEUDONYMOUS")
    assert alias != other_alias
    moderator_id, moderator = await evented.account(Role.MODERATOR)
    _, auditor = await evented.account(Role.AUDITOR)

    hidden = await act(evented, "hideAlias", alias, "doxxing a patient", moderator)
    assert hidden["data"] == {"hideAlias": True}
    await feed_shows(evented, hidden_post, shown=False)
    # One alias only: the person's other alias stays, and the account may still write.
    await feed_shows(evented, other_post, shown=True)
    await post(evented, author, "PSEUDONYMOUS")

    shown = await act(evented, "unhideAlias", alias, "appeal upheld", moderator)
    assert shown["data"] == {"unhideAlias": True}
    await feed_shows(evented, hidden_post, shown=True)

    events = await ledger(evented, auditor, {"subjectId": alias}, count=2)
    assert [(e["action"], e["decision"], e["actorId"], e["purpose"]) for e in events] == [
        ("HIDE_ALIAS", "GRANTED", moderator_id, "doxxing a patient"),
        ("UNHIDE_ALIAS", "GRANTED", moderator_id, "appeal upheld"),
    ]


async def test_reinstate_author_undoes_a_suspension_without_revealing(evented: System) -> None:
    author_id, author = await evented.account()
    post_id, alias = await post(evented, author)
    _, moderator = await evented.account(Role.MODERATOR)
    await act(evented, "suspendAuthor", alias, "spam links", moderator)
    await feed_shows(evented, post_id, shown=False)
    refused = await evented.graphql(
        CREATE,
        {"input": {"kind": "DISCUSSION", "community": "lounge-stories", "title": "t"}},
        token=author,
        expect_errors=True,
    )
    assert codes(refused) in (["FAILED_PRECONDITION"], ["FORBIDDEN"])

    body = await act(evented, "reinstateAuthor", alias, "suspended in error", moderator)
    assert body["data"] == {"reinstateAuthor": True}
    assert author_id not in str(body), "acting on an alias reveals nobody"
    await feed_shows(evented, post_id, shown=True)
    await post(evented, author)  # writes again


async def test_a_members_attempts_are_refused_and_recorded_by_anonymity(evented: System) -> None:
    _, author = await evented.account()
    post_id, alias = await post(evented, author)
    member_id, member = await evented.account()
    _, auditor = await evented.account(Role.AUDITOR)

    reveal = "mutation($a: ID!, $p: String!) { revealAuthor(aliasId: $a, purpose: $p) { id } }"
    refused = [
        await evented.graphql(
            reveal, {"a": alias, "p": "curious"}, token=member, expect_errors=True
        )
    ]
    for name in ("hideAlias", "unhideAlias", "suspendAuthor", "reinstateAuthor"):
        refused.append(await act(evented, name, alias, "because", member, expect_errors=True))
    for body in refused:
        assert codes(body) == ["FORBIDDEN"], body
        assert body["data"] is None

    # Each refusal is anonymity's DENIED record, with the member as actor (before, the
    # gateway refused first and no record existed).
    events = await ledger(evented, auditor, {"actorId": member_id}, count=5)
    assert {(e["action"], e["decision"]) for e in events} == {
        ("REVEAL_ALIAS", "DENIED"),
        ("HIDE_ALIAS", "DENIED"),
        ("UNHIDE_ALIAS", "DENIED"),
        ("SUSPEND_ALIAS", "DENIED"),
        ("REINSTATE_ALIAS", "DENIED"),
    }
    for event in events:
        assert (event["producer"], event["actorRole"], event["subjectId"]) == (
            "anonymity",
            "MEMBER",
            alias,
        )
        assert event["denialReason"]
    await feed_shows(evented, post_id, shown=True)  # nothing was hidden


async def test_without_a_token_the_gateway_refuses(evented: System) -> None:
    _, author = await evented.account()
    _, alias = await post(evented, author)
    body = await act(evented, "hideAlias", alias, "because", "", expect_errors=True)
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_bad_input_names_the_field(evented: System) -> None:
    _, author = await evented.account()
    _, alias = await post(evented, author)
    _, moderator = await evented.account(Role.MODERATOR)
    for alias_id, reason, field in ((alias, "  ", "reason"), ("post_123", "spam", "alias_id")):
        body = await act(evented, "hideAlias", alias_id, reason, moderator, expect_errors=True)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert [v["field"] for v in error["extensions"]["fieldViolations"]] == [field]
