"""Reporting posts and comments, and the moderation queue, through GraphQL.

A member reports once per item (their thread alias is the report's key at content), the
queue shows moderators counts per reason and never who reported, and a moderator hides the
one item or dismisses its reports. The flows and refusals run on SQLite with the embedded
bus and on PostgreSQL (every service) with Kafka, as deployed; a recording servicer in front
of content shows a report carries the reporter's thread alias alone.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text as sql
from support.alias_watch import CONTENT, aliases_in, owned_by, strings
from support.recording import record_servers
from support.system import System, run_system

from plumbing.auth import Role

CREATE = """mutation($input: CreatePostInput!) { createPost(input: $input) {
  id author { aliasId } } }"""
COMMENT = """mutation($i: AddCommentInput!) { addComment(input: $i) { id author { aliasId } } }"""
REPORT = """mutation($p: ID!, $c: ID, $r: ReportReason!, $n: String) {
  reportContent(postId: $p, commentId: $c, reason: $r, note: $n) {
    itemId reason alreadyReported } }"""
QUEUE = """query($s: ReportStatus) { moderationQueue(status: $s, first: 20) {
  nodes { id status reportCount counts { reason count } notes hidden resolution
    authorAliasId author { aliasId } postId post { id title } comment { id body } }
  edges { cursor } pageInfo { hasNextPage } } }"""
RESOLVE = """mutation($i: ID!, $a: ModerationAction!, $r: String!) {
  resolveReport(itemId: $i, action: $a, reason: $r) {
    actionId item { id status hidden resolution } } }"""
THREAD = """query($id: ID!) { post(id: $id) { id comments(first: 10) { nodes { id body } } } }"""
FEED = "{ feed(first: 50) { nodes { id } } }"


@pytest.fixture
async def system(
    backing: tuple[dict[str, str] | None, str | None], tmp_path: Path
) -> AsyncIterator[System]:
    urls, bootstrap = backing
    async with run_system(
        tmp_path / "data", urls, events=True, kafka_bootstrap=bootstrap
    ) as running:
        yield running


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def new_post(system: System, token: str) -> tuple[str, str]:
    body = await system.graphql(
        CREATE,
        {
            "input": {
                "kind": "DISCUSSION",
                "community": "lounge-stories",
                "title": "Night shift",
                "body": "A quiet night, for once.",
                "visibility": "PSEUDONYMOUS",
            }
        },
        token=token,
    )
    created = body["data"]["createPost"]
    return created["id"], created["author"]["aliasId"]


async def report(
    system: System, token: str, post_id: str, reason: str, **kw: Any
) -> dict[str, Any]:
    variables = {"p": post_id, "r": reason, "c": kw.pop("comment", None), "n": kw.pop("note", None)}
    return await system.graphql(REPORT, variables, token=token, **kw)


async def queue(system: System, token: str, status: str = "OPEN") -> list[dict[str, Any]]:
    body = await system.graphql(QUEUE, {"s": status}, token=token)
    nodes: list[dict[str, Any]] = body["data"]["moderationQueue"]["nodes"]
    return nodes


async def test_one_report_per_member_counted_per_reason_and_hidden_by_a_moderator(
    system: System,
) -> None:
    _, author = await system.account()
    _, first = await system.account()
    _, second = await system.account()
    _, moderator = await system.account(Role.MODERATOR)
    post_id, alias = await new_post(system, author)

    made = (await report(system, first, post_id, "PHI_EXPOSED"))["data"]["reportContent"]
    assert made == {"itemId": post_id, "reason": "PHI_EXPOSED", "alreadyReported": False}
    # The same member again, even with another reason: the first report answers.
    again = (await report(system, first, post_id, "SPAM"))["data"]["reportContent"]
    assert again == {"itemId": post_id, "reason": "PHI_EXPOSED", "alreadyReported": True}
    await report(system, second, post_id, "OTHER", note="Reads like a real chart.")

    (item,) = await queue(system, moderator)
    assert item["id"] == post_id and item["status"] == "OPEN" and item["reportCount"] == 2
    assert item["counts"] == [
        {"reason": "PHI_EXPOSED", "count": 1},
        {"reason": "OTHER", "count": 1},
    ]
    assert item["notes"] == ["Reads like a real chart."]
    assert item["authorAliasId"] == alias and item["author"]["aliasId"] == alias
    assert item["post"]["id"] == post_id and item["comment"] is None
    assert item["hidden"] is False

    done = await system.graphql(
        RESOLVE, {"i": post_id, "a": "HIDE_CONTENT", "r": "patient details"}, token=moderator
    )
    result = done["data"]["resolveReport"]
    assert result["actionId"].startswith("mod_")
    assert result["item"] == {
        "id": post_id,
        "status": "RESOLVED",
        "hidden": True,
        "resolution": "HIDE_CONTENT",
    }
    reader = await system.reader()
    feed = (await system.graphql(FEED, token=reader))["data"]["feed"]["nodes"]
    assert post_id not in [n["id"] for n in feed]
    assert (await system.graphql(THREAD, {"id": post_id}, token=reader))["data"]["post"] is None
    # The author's alias is untouched: only the item is hidden.
    other_post, same_alias = await new_post(system, author)
    assert same_alias == alias
    assert other_post in [
        n["id"] for n in (await system.graphql(FEED, token=reader))["data"]["feed"]["nodes"]
    ]
    assert await queue(system, moderator) == []
    assert [i["id"] for i in await queue(system, moderator, "RESOLVED")] == [post_id]


async def test_a_reported_comment_is_tombstoned_or_dismissed(system: System) -> None:
    _, author = await system.account()
    _, commenter = await system.account()
    _, member = await system.account()
    _, admin = await system.account(Role.ADMIN)
    post_id, _ = await new_post(system, author)
    ids = []
    for text in ("You are all idiots.", "Fair point."):
        body = await system.graphql(
            COMMENT, {"i": {"postId": post_id, "body": text}}, token=commenter
        )
        ids.append(body["data"]["addComment"]["id"])
    for comment_id in ids:
        await report(system, member, post_id, "HARASSMENT", comment=comment_id)

    items = {i["id"]: i for i in await queue(system, admin)}
    assert set(items) == set(ids)
    assert items[ids[0]]["comment"] == {"id": ids[0], "body": "You are all idiots."}
    assert items[ids[0]]["postId"] == post_id

    await system.graphql(RESOLVE, {"i": ids[0], "a": "HIDE_CONTENT", "r": "abuse"}, token=admin)
    dismissed = await system.graphql(
        RESOLVE, {"i": ids[1], "a": "DISMISS", "r": "not harassment"}, token=admin
    )
    assert dismissed["data"]["resolveReport"]["item"]["hidden"] is False
    thread = await system.graphql(THREAD, {"id": post_id}, token=await system.reader())
    assert thread["data"]["post"]["comments"]["nodes"] == [
        {"id": ids[0], "body": ""},
        {"id": ids[1], "body": "Fair point."},
    ]
    assert await queue(system, admin) == []
    # A hidden comment takes no more reports; a dismissed one reopens on a new reporter's.
    body = await report(system, author, post_id, "SPAM", comment=ids[0], expect_errors=True)
    assert codes(body) == ["NOT_FOUND"]
    await report(system, author, post_id, "SPAM", comment=ids[1])
    (reopened,) = await queue(system, admin)
    assert reopened["id"] == ids[1] and reopened["reportCount"] == 2


async def test_refusals(system: System) -> None:
    _, author = await system.account()
    _, member = await system.account()
    _, pending = await system.account(verified=False)
    _, moderator = await system.account(Role.MODERATOR)
    post_id, _ = await new_post(system, author)

    body = await report(system, pending, post_id, "SPAM", expect_errors=True)
    assert codes(body) == ["FORBIDDEN"]
    body = await system.graphql(QUEUE, {"s": "OPEN"}, token=member, expect_errors=True)
    assert codes(body) == ["FORBIDDEN"] and body["data"]["moderationQueue"] is None
    body = await system.graphql(
        RESOLVE, {"i": post_id, "a": "DISMISS", "r": "x"}, token=member, expect_errors=True
    )
    assert codes(body) == ["FORBIDDEN"]

    for reason, note, field in (
        ("OTHER", None, "note"),
        ("SPAM", "x" * 1001, "note"),
        ("SPAM", "patient SSN 123-45-6789", "note"),
    ):
        body = await report(system, member, post_id, reason, note=note, expect_errors=True)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert [v["field"] for v in error["extensions"]["fieldViolations"]] == [field]
    body = await report(system, member, post_id, "SPAM", comment="pst_x", expect_errors=True)
    assert [v["field"] for v in body["errors"][0]["extensions"]["fieldViolations"]] == [
        "comment_id"
    ]
    for item_id, reason, field in ((post_id, " ", "reason"), ("als_x", "spam", "item_id")):
        body = await system.graphql(
            RESOLVE,
            {"i": item_id, "a": "DISMISS", "r": reason},
            token=moderator,
            expect_errors=True,
        )
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert [v["field"] for v in error["extensions"]["fieldViolations"]] == [field]
    # Nothing reported yet: there is nothing to resolve.
    body = await system.graphql(
        RESOLVE, {"i": post_id, "a": "DISMISS", "r": "ok"}, token=moderator, expect_errors=True
    )
    assert codes(body) == ["NOT_FOUND"]


async def test_the_queue_is_refused_to_a_demoted_or_suspended_moderator_at_once(
    system: System,
) -> None:
    """The queue's role is checked live at identity: a moderator demoted or suspended after
    signing in is refused at once, though their token still says MODERATOR."""
    _, author = await system.account()
    _, member = await system.account()
    demoted_id, demoted = await system.account(Role.MODERATOR)
    suspended_id, suspended = await system.account(Role.MODERATOR)
    _, admin = await system.account(Role.ADMIN)
    post_id, _ = await new_post(system, author)
    await report(system, member, post_id, "SPAM")
    for token in (demoted, suspended):
        assert [n["id"] for n in await queue(system, token)] == [post_id]

    async with system.identity.store.transaction() as repo:
        moderator = await repo.get(demoted_id)
        await repo.save(dataclasses.replace(moderator, roles=frozenset({Role.MEMBER})))
    await system.graphql(
        'mutation($u: ID!) { suspendPhysician(userId: $u, reason: "test") { id } }',
        {"u": suspended_id},
        token=admin,
    )
    for token in (demoted, suspended):
        body = await system.graphql(QUEUE, {"s": "OPEN"}, token=token, expect_errors=True)
        assert codes(body) == ["FORBIDDEN"], body
        assert body["data"]["moderationQueue"] is None
        assert post_id not in json.dumps(body)
    assert [n["id"] for n in await queue(system, admin)] == [post_id]


async def test_a_report_reaches_content_with_the_reporters_thread_alias_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reporter is one ANONYMOUS thread alias at content: no user id, never next to
    another of their aliases, and the queue names no reporter at all."""
    recorder = record_servers(monkeypatch)
    async with run_system(tmp_path / "data") as system:
        _, author = await system.account()
        reporter_id, reporter = await system.account()
        _, moderator = await system.account(Role.MODERATOR)
        post_id, _ = await new_post(system, author)
        # The reporter already has a pseudonymous alias in this thread and one elsewhere.
        said = await system.graphql(
            COMMENT, {"i": {"postId": post_id, "body": "Hmm."}}, token=reporter
        )
        spoken_alias = said["data"]["addComment"]["author"]["aliasId"]
        await new_post(system, reporter)
        before = len(recorder.to(CONTENT))

        await report(system, reporter, post_id, "MISINFORMATION", note="Outdated dosing.")
        await report(system, reporter, post_id, "SPAM")  # the repeat: still one alias

        calls = recorder.to(CONTENT)
        reports = [c for c in calls[before:] if c.method.endswith("/ReportContent")]
        assert len(reports) == 2
        seen = set().union(*(aliases_in(c) for c in calls))
        mine = await owned_by(system, reporter_id, reporter, seen)
        (used,) = {c.request.reporter_alias_id for c in reports}
        assert used in mine and used != spoken_alias, "the thread's ANONYMOUS alias"
        for call in reports:
            assert not [s for s in strings(call.request) if s.startswith("usr_")]
            assert aliases_in(call) == {used}
        for call in calls:
            assert len(aliases_in(call) & mine) <= 1, (call.method, aliases_in(call) & mine)

        body = await system.graphql(QUEUE, {"s": "OPEN"}, token=moderator)
        text = json.dumps(body)
        assert not any(alias in text for alias in mine), "the queue names no reporter"
        assert reporter_id not in text


async def test_reports_spend_the_reporters_write_budget(tmp_path: Path) -> None:
    """A report is a write per person: a member cannot flood the queue past their budget."""
    async with run_system(tmp_path / "data", writes_per_minute=3) as system:
        _, author = await system.account()
        _, member = await system.account()
        posts = [(await new_post(system, author))[0] for _ in range(3)]
        for post_id in posts:
            await report(system, member, post_id, "SPAM")
        body = await report(system, member, posts[0], "SPAM", expect_errors=True)
        assert codes(body) == ["RATE_LIMITED"]


async def moderation_records(system: System) -> list[tuple[str, str, str, str, str]]:
    """Anonymity's records of content moderation: (actor, subject, purpose, decision, reason)."""
    async with system.anonymity.engine.connect() as conn:
        rows = await conn.execute(
            sql(
                "SELECT actor_id, subject, purpose, decision, reason FROM identity_access_records"
                " WHERE action = 'MODERATE_CONTENT' ORDER BY occurred_at"
            )
        )
        return [tuple(row) for row in rows]


async def test_who_resolved_a_report_is_recorded_before_content_acts(system: System) -> None:
    _, author = await system.account()
    _, member = await system.account()
    moderator_id, moderator = await system.account(Role.MODERATOR)
    member_id = await system.graphql("{ me { id } }", token=member)
    post_id, _ = await new_post(system, author)
    await report(system, member, post_id, "SPAM")

    refused = await system.graphql(
        RESOLVE, {"i": post_id, "a": "HIDE_CONTENT", "r": "spam"}, token=member, expect_errors=True
    )
    assert codes(refused) == ["FORBIDDEN"]
    await system.graphql(
        RESOLVE, {"i": post_id, "a": "HIDE_CONTENT", "r": "spam ring"}, token=moderator
    )

    denied, granted = await moderation_records(system)
    assert denied[0] == member_id["data"]["me"]["id"] and denied[1:4] == (
        post_id,
        "HIDE_CONTENT: spam",
        "DENIED",
    )
    assert granted[:4] == (moderator_id, post_id, "HIDE_CONTENT: spam ring", "GRANTED")
    # Content holds the role and an action id only, never who acted.
    async with system.content.engine.connect() as conn:
        logged = [tuple(r) for r in await conn.execute(sql("SELECT * FROM moderation_log"))]
    assert logged and moderator_id not in str(logged)
