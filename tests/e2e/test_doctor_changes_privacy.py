"""An author's changes never hand content two of their aliases, nor who they are.

A recording content servicer (every request content receives, as content's process sees
it) watches one physician write under all three visibilities and then change their mind:
solve a case, edit a post and a comment, delete a comment and a post, retract a reaction,
read the feed of the communities they follow;
a colleague's refused attempts on the same records are watched too. No content call and no
GraphQL request (one gateway trace) may carry two of the author's aliases, no call may carry
a user id, and a refused non-author sends content nothing of theirs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.alias_watch import CONTENT, aliases_in, owned_by, strings, trace_of
from support.recording import RecordingInterceptor, record_servers
from support.system import System, run_system

CREATE = "mutation($i: CreatePostInput!) { createPost(input: $i) { id author { aliasId } } }"
COMMENT = "mutation($i: AddCommentInput!) { addComment(input: $i) { id } }"
CASE = {
    "ageBand": "CHILD",
    "sex": "MALE",
    "presentingComplaint": "Recurrent wheeze",
    "question": "Step up to ICS?",
}


@pytest.fixture
async def recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[System, RecordingInterceptor]]:
    recorder = record_servers(monkeypatch)
    async with run_system(tmp_path / "data") as system:
        yield system, recorder


async def test_an_authors_changes_never_link_their_aliases_for_content(
    recorded: tuple[System, RecordingInterceptor],
) -> None:
    system, recorder = recorded
    colleague_id, colleague = await system.account()
    author_id, author = await system.account(full_name="Dr. Canary Changer")

    async def create(visibility: str, **fields: object) -> str:
        base = {
            "kind": "DISCUSSION",
            "community": "lounge-stories",
            "title": f"{visibility} shift",
            "body": "Notes.",
            "visibility": visibility,
        }
        body = await system.graphql(CREATE, {"i": base | fields}, token=author)
        return str(body["data"]["createPost"]["id"])

    case = await create("IDENTIFIED", kind="CASE", community="pediatrics", case=CASE)
    pseudo = await create("PSEUDONYMOUS")
    anonymous = await create("ANONYMOUS")
    theirs = (
        await system.graphql(
            CREATE,
            {
                "i": {
                    "kind": "DISCUSSION",
                    "community": "lounge-stories",
                    "title": "Theirs",
                    "body": "B",
                }
            },
            token=colleague,
        )
    )["data"]["createPost"]["id"]
    comment = (
        await system.graphql(
            COMMENT,
            {"i": {"postId": theirs, "body": "Mine.", "visibility": "ANONYMOUS"}},
            token=author,
        )
    )["data"]["addComment"]["id"]
    await system.graphql(
        "mutation($p: ID!) { react(postId: $p, reaction: LIKE) { id } }",
        {"p": theirs},
        token=author,
    )

    changes: list[tuple[str, dict[str, object]]] = [
        (
            'mutation($p: ID!) { markCaseSolved(postId: $p, resolution: "Yes.") { id } }',
            {"p": case},
        ),
        ('mutation($p: ID!) { editPost(postId: $p, title: "T", body: "B") { id } }', {"p": pseudo}),
        (
            'mutation($c: ID!) { editComment(commentId: $c, body: "Edited.") { id } }',
            {"c": comment},
        ),
        ("mutation($c: ID!) { deleteComment(commentId: $c) { id } }", {"c": comment}),
        ("mutation($p: ID!) { deletePost(postId: $p) }", {"p": anonymous}),
        ("mutation($p: ID!) { retractReaction(postId: $p) { id } }", {"p": theirs}),
    ]
    before_refusals = len(recorder.to(CONTENT))
    for document, variables in changes[:3]:
        body = await system.graphql(document, variables, token=colleague, expect_errors=True)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    refused_writes = [c for c in recorder.to(CONTENT)[before_refusals:] if aliases_in(c)]
    assert refused_writes == [], "a refused non-author sends content no alias"
    for document, variables in changes:
        await system.graphql(document, variables, token=author)
    # Following: the list stays at identity; content gets community ids only, no alias.
    await system.graphql('mutation { followCommunity(id: "pediatrics") { id } }', token=author)
    before_feed = len(recorder.to(CONTENT))
    await system.graphql("{ feed(following: true) { nodes { id } } }", token=author)
    (listed,) = [c for c in recorder.to(CONTENT)[before_feed:] if c.method.endswith("/ListFeed")]
    assert list(listed.request.community_ids) == ["pediatrics"]  # type: ignore[attr-defined]
    assert not aliases_in(listed)

    calls = recorder.to(CONTENT)
    assert {c.method.rsplit("/", 1)[1] for c in calls} >= {
        "MarkCaseSolved",
        "EditPost",
        "EditComment",
        "DeleteComment",
        "DeletePost",
        "RetractReaction",
    }
    seen = set().union(*(aliases_in(c) for c in calls))
    authors = await owned_by(system, author_id, author, seen)
    assert len(authors) == 4, "identified, pseudonymous and two thread aliases"
    for call in calls:
        assert len(aliases_in(call) & authors) <= 1, (call.method, aliases_in(call) & authors)
        sent = [*strings(call.request), *(str(v) for _, v in call.metadata)]
        for person in (author_id, colleague_id):
            assert not any(person in s for s in sent), (call.method, "a user id reached content")
        assert not any(s.startswith("usr_") for s in sent), call.method
    per_request: defaultdict[str, set[str]] = defaultdict(set)
    for call in calls:
        per_request[trace_of(call)] |= aliases_in(call) & authors
    assert max(len(a) for a in per_request.values()) == 1, dict(per_request)
