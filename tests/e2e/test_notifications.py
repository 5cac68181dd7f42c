"""Notifications and one's own activity, end to end on the embedded bus and on Kafka.

A doctor hears of replies to their posts and comments under every visibility, sees their own
items across all their aliases with the visibility of each, and marks notifications read; the
index lives at anonymity (fed by content's alias-keyed events), so serving it asks content
nothing. Refusals: signed-out callers, bad cursors.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.live_socket import live, socket
from support.recording import RecordingInterceptor, record_servers
from support.system import System, run_system

CREATE = "mutation($i: CreatePostInput!) { createPost(input: $i) { id author { aliasId } } }"
COMMENT = "mutation($i: AddCommentInput!) { addComment(input: $i) { id } }"
NOTIFICATIONS = """query($first: Int, $after: String) { notifications(first: $first, after: $after) {
  unreadCount totalCount
  nodes { id kind postId commentId occurredAt read }
  edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""
ACTIVITY = """query($after: String) { myActivity(first: 10, after: $after) {
  nodes { id kind postId commentId visibility } pageInfo { hasNextPage endCursor } } }"""
MARK = "mutation($upTo: ID) { markNotificationsRead(upTo: $upTo) }"
CONTENT = "consilium.content.v1.ContentService"


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
async def system(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[System, RecordingInterceptor]]:
    recorder = record_servers(monkeypatch)
    bootstrap = request.getfixturevalue("kafka_bootstrap") if request.param == "kafka" else None
    async with run_system(tmp_path / "data", events=True, kafka_bootstrap=bootstrap) as running:
        yield running, recorder


def post(title: str, visibility: str) -> dict[str, Any]:
    return {
        "kind": "DISCUSSION",
        "community": "lounge-stories",
        "title": title,
        "body": "Shift notes.",
        "visibility": visibility,
    }


async def until(system: System, token: str, query: str, check: Any) -> dict[str, Any]:
    """The query's data once `check` holds (the index fills from events, asynchronously)."""
    deadline = time.monotonic() + 30
    while True:
        data = (await system.graphql(query, token=token))["data"]
        if check(data):
            return data
        assert time.monotonic() < deadline, f"never: {data}"
        await asyncio.sleep(0.1)


async def test_replies_reach_the_author_under_every_visibility(
    system: tuple[System, RecordingInterceptor],
) -> None:
    running, recorder = system
    _, author = await running.account()
    _, replier = await running.account()
    posts = {}
    for visibility in ("IDENTIFIED", "PSEUDONYMOUS", "ANONYMOUS"):
        created = await running.graphql(CREATE, {"i": post(visibility, visibility)}, token=author)
        posts[visibility] = created["data"]["createPost"]["id"]
    replies = []
    for post_id in posts.values():
        made = await running.graphql(
            COMMENT,
            {"i": {"postId": post_id, "body": "Seen it.", "visibility": "ANONYMOUS"}},
            token=replier,
        )
        replies.append(made["data"]["addComment"]["id"])
    # The author answers the replier's first comment; the replier hears of it.
    answer = await running.graphql(
        COMMENT,
        {
            "i": {
                "postId": posts["IDENTIFIED"],
                "parentId": replies[0],
                "body": "Thanks.",
                "visibility": "PSEUDONYMOUS",
            }
        },
        token=author,
    )
    answer_id = answer["data"]["addComment"]["id"]

    mine = await until(
        running, author, NOTIFICATIONS, lambda d: d["notifications"]["totalCount"] == 3
    )
    theirs = await until(
        running, replier, NOTIFICATIONS, lambda d: d["notifications"]["totalCount"] == 1
    )
    activity = await until(
        running,
        author,
        "{ myActivity { nodes { kind visibility postId } } }",
        lambda d: len(d["myActivity"]["nodes"]) == 4,
    )

    notes = mine["notifications"]
    assert notes["unreadCount"] == 3
    assert {(n["kind"], n["postId"], n["commentId"]) for n in notes["nodes"]} == {
        ("REPLY_TO_POST", p, c) for p, c in zip(posts.values(), replies, strict=True)
    }, "the author's own answer is no notification to them"
    assert [n["id"] for n in notes["nodes"]] == [e["node"]["id"] for e in notes["edges"]]
    (note,) = theirs["notifications"]["nodes"]
    assert (note["kind"], note["commentId"]) == ("REPLY_TO_COMMENT", answer_id)
    items = activity["myActivity"]["nodes"]
    # Each with the visibility it was written under (in the order the index learnt of them:
    # posts in different threads travel on different partitions).
    assert sorted((i["kind"], i["visibility"], i["postId"]) for i in items) == sorted(
        [("COMMENT", "PSEUDONYMOUS", posts["IDENTIFIED"])]
        + [("POST", v, p) for v, p in posts.items()]
    )

    # Reading: up to the second newest, then all.
    second = notes["nodes"][1]["id"]
    assert (await running.graphql(MARK, {"upTo": second}, token=author))["data"] == {
        "markNotificationsRead": 1
    }
    after = (await running.graphql(NOTIFICATIONS, token=author))["data"]["notifications"]
    assert [n["read"] for n in after["nodes"]] == [False, True, True]
    assert (await running.graphql(MARK, token=author))["data"]["markNotificationsRead"] == 0

    # Paging by any cursor, and serving all this asked content nothing.
    before = len(recorder.to(CONTENT))
    first = (await running.graphql(NOTIFICATIONS, {"first": 1}, token=author))["data"]
    page = first["notifications"]
    rest = await running.graphql(
        NOTIFICATIONS, {"first": 5, "after": page["pageInfo"]["endCursor"]}, token=author
    )
    assert page["pageInfo"]["hasNextPage"]
    assert [n["id"] for n in rest["data"]["notifications"]["nodes"]] == [
        n["id"] for n in after["nodes"][1:]
    ]
    await running.graphql(ACTIVITY, token=author)
    assert len(recorder.to(CONTENT)) == before, "the index is served without content"


async def test_only_a_signed_in_person_reads_their_index(
    system: tuple[System, RecordingInterceptor],
) -> None:
    running, _ = system
    for query in (NOTIFICATIONS, ACTIVITY, MARK):
        body = await running.graphql(query, expect_errors=True)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    _, member = await running.account()
    bad = await running.graphql(
        NOTIFICATIONS, {"after": "not-a-cursor"}, token=member, expect_errors=True
    )
    (error,) = bad["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    empty = (await running.graphql(NOTIFICATIONS, token=member))["data"]["notifications"]
    assert (empty["totalCount"], empty["unreadCount"], empty["nodes"]) == (0, 0, [])


async def test_new_notifications_arrive_on_the_subscription(tmp_path: Path) -> None:
    async with run_system(tmp_path / "data", events=True, notification_poll_seconds=0.1) as running:
        _, author = await running.account()
        _, replier = await running.account()
        created = await running.graphql(CREATE, {"i": post("Night", "ANONYMOUS")}, token=author)
        post_id = created["data"]["createPost"]["id"]

        async def reply() -> str:
            made = await running.graphql(
                COMMENT,
                {"i": {"postId": post_id, "body": "Seen.", "visibility": "PSEUDONYMOUS"}},
                token=replier,
            )
            return str(made["data"]["addComment"]["id"])

        async with socket(running, author) as sock:
            await sock.subscribe(
                "n", "subscription { notificationAdded { id kind commentId } }", {}
            )
            probes: list[str] = []

            async def probe() -> None:
                probes.append(await reply())

            await live(sock, "n", probe)
            awaited = await reply()
            deadline = time.monotonic() + 20
            while True:  # probes sent before the first delivery may still arrive first
                message = await sock.message("n", within=10)
                assert message["type"] == "next", message
                note = message["payload"]["data"]["notificationAdded"]
                assert note["kind"] == "REPLY_TO_POST" and note["commentId"] in [*probes, awaited]
                if note["commentId"] == awaited:
                    break
                assert time.monotonic() < deadline
        # The replier hears nothing of their own replies.
        theirs = (await running.graphql(NOTIFICATIONS, token=replier))["data"]["notifications"]
        assert theirs["totalCount"] == 0


async def test_a_solved_case_reaches_those_who_commented_on_it(
    system: tuple[System, RecordingInterceptor],
) -> None:
    running, _ = system
    _, author = await running.account()
    _, commenter = await running.account()
    _, bystander = await running.account()
    case = {
        **post("Dyspnoea", "ANONYMOUS"),
        "kind": "CASE",
        "community": "second-opinions",
        "case": {
            "ageBand": "OLDER_ADULT",
            "sex": "FEMALE",
            "presentingComplaint": "Exertional dyspnoea for three weeks",
            "question": "SGLT2 inhibitor at eGFR 28?",
        },
    }
    post_id = (await running.graphql(CREATE, {"i": case}, token=author))["data"]["createPost"]["id"]
    for body in ("Check the eGFR trend first.", "And the potassium."):
        await running.graphql(
            COMMENT,
            {"i": {"postId": post_id, "body": body, "visibility": "ANONYMOUS"}},
            token=commenter,
        )
    # The author's own comment makes them a follower too, yet they are not told.
    await running.graphql(
        COMMENT,
        {"i": {"postId": post_id, "body": "Thanks.", "visibility": "ANONYMOUS"}},
        token=author,
    )
    await until(running, author, NOTIFICATIONS, lambda d: d["notifications"]["totalCount"] == 2)
    solve = 'mutation($p: ID!) { markCaseSolved(postId: $p, resolution: "Started at low dose.") { id } }'
    await running.graphql(solve, {"p": post_id}, token=author)

    theirs = await until(
        running,
        commenter,
        NOTIFICATIONS,
        lambda d: any(n["kind"] == "CASE_SOLVED" for n in d["notifications"]["nodes"]),
    )
    solved = [n for n in theirs["notifications"]["nodes"] if n["kind"] == "CASE_SOLVED"]
    assert [(n["postId"], n["commentId"]) for n in solved] == [(post_id, None)], "told once"
    mine = (await running.graphql(NOTIFICATIONS, token=author))["data"]["notifications"]
    assert "CASE_SOLVED" not in [n["kind"] for n in mine["nodes"]]
    nobody = (await running.graphql(NOTIFICATIONS, token=bystander))["data"]["notifications"]
    assert nobody["totalCount"] == 0
