"""A doctor and what they wrote, through GraphQL: solve a case, edit, delete, retract.

Runs on the embedded bus with SQLite and on Kafka with PostgreSQL. Refusals: not the
author (FORBIDDEN), not verified (FORBIDDEN), hidden or deleted content (NOT_FOUND), bad
input with the field named (BAD_USER_INPUT), the identifier guard on an edit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.system import System, run_system

CREATE = """mutation($input: CreatePostInput!) { createPost(input: $input) {
  id author { aliasId } } }"""
COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"""
SOLVE = """mutation($p: ID!, $r: String!) { markCaseSolved(postId: $p, resolution: $r) {
  id case { status resolution solvedAt } } }"""
EDIT = """mutation($p: ID!, $t: String!, $b: String!) { editPost(postId: $p, title: $t, body: $b) {
  id title body editedAt } }"""
EDIT_COMMENT = """mutation($c: ID!, $b: String!) { editComment(commentId: $c, body: $b) {
  id body editedAt } }"""
DELETE = "mutation($p: ID!) { deletePost(postId: $p) }"
DELETE_COMMENT = """mutation($c: ID!) { deleteComment(commentId: $c) {
  id deleted body author { aliasId } viewerIsAuthor } }"""
RETRACT = """mutation($p: ID!) { retractReaction(postId: $p) {
  reactions { total viewerReaction } } }"""
THREAD = """query($id: ID!) { post(id: $id) { id title editedAt commentCount
  comments(first: 10) { nodes { id body deleted parentId editedAt author { aliasId } } } } }"""
FEED = """query($s: CaseStatus) { feed(first: 50, caseStatus: $s) { nodes { id } } }"""
SEARCH = """query($t: String!, $s: CaseStatus) { search(text: $t, caseStatus: $s) {
  nodes { id } } }"""

CASE = {
    "ageBand": "OLDER_ADULT",
    "sex": "FEMALE",
    "presentingComplaint": "Exertional dyspnoea for three weeks",
    "question": "SGLT2 inhibitor at eGFR 28?",
}


@pytest.fixture
async def system(
    backing: tuple[dict[str, str] | None, str | None], tmp_path: Path
) -> AsyncIterator[System]:
    urls, bootstrap = backing
    async with run_system(
        tmp_path / "data", urls, events=True, kafka_bootstrap=bootstrap
    ) as running:
        yield running


def post(kind: str = "DISCUSSION", visibility: str = "ANONYMOUS", **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kind": kind,
        "community": "cardiology" if kind == "CASE" else "lounge-stories",
        "title": "Dyspnoea in HFrEF" if kind == "CASE" else "A quiet night shift",
        "body": "Looking for experience.",
        "visibility": visibility,
        **({"case": CASE} if kind == "CASE" else {}),
    }
    return {"input": fields | extra}


async def create(system: System, token: str, **fields: Any) -> str:
    body = await system.graphql(CREATE, post(**fields), token=token)
    return str(body["data"]["createPost"]["id"])


def refusal(body: dict[str, Any]) -> tuple[str, list[str]]:
    """The one error's code and the fields it names."""
    assert body["data"] is None or not any(body["data"].values()), body
    (error,) = body["errors"]
    named = [v["field"] for v in error["extensions"].get("fieldViolations", [])]
    return error["extensions"]["code"], named


async def test_the_author_marks_a_case_solved_and_feeds_filter_by_status(system: System) -> None:
    _, author = await system.account()
    _, colleague = await system.account()
    _, pending = await system.account(verified=False)
    case_id = await create(system, author, kind="CASE", visibility="PSEUDONYMOUS")
    lounge_id = await create(system, author)

    for token in (colleague, pending):
        body = await system.graphql(
            SOLVE, {"p": case_id, "r": "x"}, token=token, expect_errors=True
        )
        assert refusal(body) == ("FORBIDDEN", [])
    body = await system.graphql(SOLVE, {"p": lounge_id, "r": ""}, token=author, expect_errors=True)
    assert refusal(body) == ("BAD_USER_INPUT", ["post_id"])
    body = await system.graphql(
        SOLVE,
        {"p": case_id, "r": "Her MRN: 44556677 at discharge"},
        token=author,
        expect_errors=True,
    )
    assert refusal(body) == ("BAD_USER_INPUT", ["resolution"])

    solved = await system.graphql(
        SOLVE, {"p": case_id, "r": "Dapagliflozin, renal function stable."}, token=author
    )
    case = solved["data"]["markCaseSolved"]["case"]
    assert case["status"] == "SOLVED" and case["solvedAt"]
    assert case["resolution"] == "Dapagliflozin, renal function stable."

    def ids(body: dict[str, Any], root: str) -> set[str]:
        return {n["id"] for n in body["data"][root]["nodes"]}

    reader = await system.reader()
    solved_feed = ids(await system.graphql(FEED, {"s": "SOLVED"}, token=reader), "feed")
    open_feed = ids(await system.graphql(FEED, {"s": "OPEN"}, token=reader), "feed")
    assert case_id in solved_feed and lounge_id not in solved_feed
    assert case_id not in open_feed
    found = await system.graphql(SEARCH, {"t": "dyspnoea", "s": "SOLVED"}, token=reader)
    assert ids(found, "search") == {case_id}
    found = await system.graphql(SEARCH, {"t": "dyspnoea", "s": "OPEN"}, token=reader)
    assert case_id not in ids(found, "search")


async def test_authors_edit_and_delete_what_they_wrote_and_nothing_hidden_or_not_theirs(
    system: System,
) -> None:
    _, author = await system.account()
    _, colleague = await system.account()
    post_id = await create(system, author)
    comment = await system.graphql(
        COMMENT,
        {"input": {"postId": post_id, "body": "Lucky you.", "visibility": "ANONYMOUS"}},
        token=colleague,
    )
    comment_id = comment["data"]["addComment"]["id"]
    await system.graphql(
        COMMENT,
        {"input": {"postId": post_id, "body": "Indeed.", "parentId": comment_id}},
        token=author,
    )

    new = {"p": post_id, "t": "A quiet night, edited", "b": "Nothing happened."}
    assert refusal(await system.graphql(EDIT, new, token=colleague, expect_errors=True)) == (
        "FORBIDDEN",
        [],
    )
    guarded = await system.graphql(
        EDIT, {**new, "b": "Bed 4, SSN 123-45-6789"}, token=author, expect_errors=True
    )
    assert refusal(guarded) == ("BAD_USER_INPUT", ["body"])
    blank = await system.graphql(EDIT, {**new, "t": " "}, token=author, expect_errors=True)
    assert refusal(blank) == ("BAD_USER_INPUT", ["title"])
    edited = (await system.graphql(EDIT, new, token=author))["data"]["editPost"]
    assert (edited["title"], edited["body"]) == (new["t"], new["b"]) and edited["editedAt"]

    changed = {"c": comment_id, "b": "Lucky you, truly."}
    assert refusal(
        await system.graphql(EDIT_COMMENT, changed, token=author, expect_errors=True)
    ) == ("FORBIDDEN", [])
    guarded = await system.graphql(
        EDIT_COMMENT, {**changed, "b": "Call 212-736-5000"}, token=colleague, expect_errors=True
    )
    assert refusal(guarded) == ("BAD_USER_INPUT", ["body"])
    mine = (await system.graphql(EDIT_COMMENT, changed, token=colleague))["data"]["editComment"]
    assert mine["body"] == "Lucky you, truly." and mine["editedAt"]

    assert refusal(
        await system.graphql(DELETE_COMMENT, {"c": comment_id}, token=author, expect_errors=True)
    ) == ("FORBIDDEN", [])
    tomb = (await system.graphql(DELETE_COMMENT, {"c": comment_id}, token=colleague))["data"]
    assert tomb["deleteComment"] == {
        "id": comment_id,
        "deleted": True,
        "body": "",
        "author": None,
        "viewerIsAuthor": False,
    }
    thread = (await system.graphql(THREAD, {"id": post_id}, token=author))["data"]["post"]
    first, reply = thread["comments"]["nodes"]
    assert (first["deleted"], first["body"], first["author"]) == (True, "", None)
    assert reply["parentId"] == comment_id and reply["body"] == "Indeed."
    assert thread["commentCount"] == 1
    again = await system.graphql(
        DELETE_COMMENT, {"c": comment_id}, token=colleague, expect_errors=True
    )
    assert refusal(again) == ("NOT_FOUND", [])

    assert refusal(
        await system.graphql(DELETE, {"p": post_id}, token=colleague, expect_errors=True)
    ) == ("FORBIDDEN", [])
    assert (await system.graphql(DELETE, {"p": post_id}, token=author))["data"]["deletePost"]
    assert (await system.graphql(THREAD, {"id": post_id}, token=author))["data"]["post"] is None
    feed = await system.graphql(FEED, token=author)
    assert post_id not in {n["id"] for n in feed["data"]["feed"]["nodes"]}
    found = await system.graphql(SEARCH, {"t": "quiet night"}, token=author)
    assert post_id not in {n["id"] for n in found["data"]["search"]["nodes"]}
    for document, variables in ((EDIT, new), (DELETE, {"p": post_id})):
        body = await system.graphql(document, variables, token=author, expect_errors=True)
        assert refusal(body) == ("NOT_FOUND", [])

    # Hidden by a moderator (its alias only): the author cannot change it either.
    created = await system.graphql(CREATE, post(), token=author)
    hidden_id = created["data"]["createPost"]["id"]
    await system.hide_alias(created["data"]["createPost"]["author"]["aliasId"])
    for document, variables in (
        (EDIT, {"p": hidden_id, "t": "t", "b": "b"}),
        (DELETE, {"p": hidden_id}),
        (SOLVE, {"p": hidden_id, "r": ""}),
    ):
        body = await system.graphql(document, variables, token=author, expect_errors=True)
        assert refusal(body) == ("NOT_FOUND", [])


async def test_a_reaction_can_be_retracted(system: System) -> None:
    _, author = await system.account()
    _, reader = await system.account()
    post_id = await create(system, author)
    nothing = await system.graphql(RETRACT, {"p": post_id}, token=reader)
    assert nothing["data"]["retractReaction"]["reactions"] == {"total": 0, "viewerReaction": None}
    await system.graphql(
        "mutation($p: ID!) { react(postId: $p, reaction: AGREE) { id } }",
        {"p": post_id},
        token=reader,
    )
    gone = await system.graphql(RETRACT, {"p": post_id}, token=reader)
    assert gone["data"]["retractReaction"]["reactions"] == {"total": 0, "viewerReaction": None}
    _, pending = await system.account(verified=False)
    body = await system.graphql(RETRACT, {"p": post_id}, token=pending, expect_errors=True)
    assert refusal(body) == ("FORBIDDEN", [])


FOLLOW = "mutation($c: ID!) { followCommunity(id: $c) { id viewerFollows } }"
UNFOLLOW = "mutation($c: ID!) { unfollowCommunity(id: $c) { id viewerFollows } }"
FOLLOWING = "{ feed(first: 50, following: true) { nodes { id } } }"
COMMUNITIES = "{ communities { id viewerFollows } }"


async def test_a_feed_of_followed_communities_kept_by_person_and_erased_with_them(
    system: System,
) -> None:
    user_id, doctor = await system.account()
    _, other = await system.account()
    _, pending = await system.account(verified=False)
    case_id = await create(system, other, kind="CASE")
    lounge_id = await create(system, other)

    async def following(token: str) -> set[str]:
        body = await system.graphql(FOLLOWING, token=token)
        return {n["id"] for n in body["data"]["feed"]["nodes"]}

    assert await following(doctor) == set(), "following nothing: an empty feed"
    followed = await system.graphql(FOLLOW, {"c": "cardiology"}, token=doctor)
    assert followed["data"]["followCommunity"] == {"id": "cardiology", "viewerFollows": True}
    await system.graphql(FOLLOW, {"c": "cardiology"}, token=doctor)  # again: no change
    await system.graphql(FOLLOW, {"c": "pediatrics"}, token=doctor)
    mine = (await system.graphql(COMMUNITIES, token=doctor))["data"]["communities"]
    assert {c["id"] for c in mine if c["viewerFollows"]} == {"cardiology", "pediatrics"}
    theirs = (await system.graphql(COMMUNITIES, token=other))["data"]["communities"]
    assert not any(c["viewerFollows"] for c in theirs)
    anyone = (await system.graphql(COMMUNITIES))["data"]["communities"]
    assert not any(c["viewerFollows"] for c in anyone), "signed out: false"

    feed = await following(doctor)
    assert case_id in feed and lounge_id not in feed
    unfollowed = await system.graphql(UNFOLLOW, {"c": "cardiology"}, token=doctor)
    assert unfollowed["data"]["unfollowCommunity"]["viewerFollows"] is False
    assert case_id not in await following(doctor)

    unknown = await system.graphql(FOLLOW, {"c": "astrology"}, token=doctor, expect_errors=True)
    assert refusal(unknown) == ("BAD_USER_INPUT", ["id"])
    body = await system.graphql(FOLLOW, {"c": "cardiology"}, token=pending, expect_errors=True)
    assert refusal(body) == ("FORBIDDEN", [])
    both = await system.graphql(
        '{ feed(following: true, community: "cardiology") { nodes { id } } }',
        token=doctor,
        expect_errors=True,
    )
    assert refusal(both) == ("BAD_USER_INPUT", ["following"])

    async with system.identity.store.transaction() as repo:
        assert await repo.followed(user_id) == ["pediatrics"]
    await system.graphql(
        "mutation($u: ID!) { eraseAccount(userId: $u) }", {"u": user_id}, token=doctor
    )
    async with system.identity.store.transaction() as repo:
        assert await repo.followed(user_id) == [], "erasure deletes the follows"
