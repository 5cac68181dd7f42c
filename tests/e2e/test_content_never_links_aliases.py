"""Content never sees two aliases of one person together (issue 9, finding 3).

A recording content servicer (every request content receives, as content's process sees it)
watches one physician's realistic session: anonymous posts in two threads, an anonymous
comment in a third, reactions and votes in several threads, then feed pages, post pages and
a search showing their own reactions, votes and authorship. Anonymity tells the test which
aliases are theirs; no single content call, and no single GraphQL request (one gateway
trace), may carry two of them. A request with two alias-bearing writes is refused up front.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.alias_watch import CONTENT, aliases_in, owned_by, trace_of
from support.recording import RecordingInterceptor, record_servers
from support.system import System, run_system

CREATE = "mutation($i: CreatePostInput!) { createPost(input: $i) { id author { aliasId } } }"
COMMENT = "mutation($i: AddCommentInput!) { addComment(input: $i) { id author { aliasId } } }"
REACT = "mutation($p: ID!, $r: Reaction!) { react(postId: $p, reaction: $r) { id } }"
VOTE = "mutation($p: ID!, $o: Int!) { votePoll(postId: $p, option: $o) { viewerHasVoted } }"
VIEW = """
  id viewerIsAuthor author { aliasId isViewer }
  reactions { total viewerReaction counts { reaction count } }
  poll { viewerHasVoted totalVotes options { votes } }
  comments(first: 10) { nodes { viewerIsAuthor author { aliasId isViewer } } }
"""
FEED = f"{{ feed(first: 20) {{ nodes {{ {VIEW} }} }} }}"
POST = f"query($id: ID!) {{ post(id: $id) {{ {VIEW} }} }}"
SEARCH = f'{{ search(text: "shift") {{ nodes {{ {VIEW} }} }} }}'


@pytest.fixture
async def recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[System, RecordingInterceptor]]:
    recorder = record_servers(monkeypatch)
    async with run_system(tmp_path / "data") as system:
        yield system, recorder


def post_input(title: str, visibility: str = "ANONYMOUS", poll: bool = False) -> dict[str, Any]:
    return {
        "kind": "POLL" if poll else "DISCUSSION",
        "community": "lounge-stories",
        "title": title,
        "body": "Shift notes.",
        "visibility": visibility,
        "pollOptions": ["Yes", "No"] if poll else None,
    }


async def test_one_viewers_session_never_hands_content_two_of_their_aliases(
    recorded: tuple[System, RecordingInterceptor],
) -> None:
    system, recorder = recorded
    _, other = await system.account()
    viewer_id, viewer = await system.account()

    # Others' threads the viewer joins: a discussion and two polls.
    joined = []
    for title, poll in (("Other shift", False), ("Poll one shift", True), ("Poll two", True)):
        body = await system.graphql(CREATE, {"i": post_input(title, poll=poll)}, token=other)
        joined.append(body["data"]["createPost"]["id"])
    # The viewer's own anonymous threads: each has its own alias.
    mine = []
    for title in ("My first shift", "My second shift"):
        body = await system.graphql(CREATE, {"i": post_input(title)}, token=viewer)
        mine.append(body["data"]["createPost"]["id"])
    await system.graphql(
        COMMENT,
        {"i": {"postId": joined[0], "body": "Same here.", "visibility": "ANONYMOUS"}},
        token=viewer,
    )
    for post_id in (*mine, joined[0]):
        await system.graphql(REACT, {"p": post_id, "r": "SUPPORT"}, token=viewer)
    for post_id in joined[1:]:
        await system.graphql(VOTE, {"p": post_id, "o": 0}, token=viewer)
    await system.graphql(REACT, {"p": mine[0], "r": "LIKE"}, token=other)

    # Reading: the viewer must still see their own state everywhere.
    feed = (await system.graphql(FEED, token=viewer))["data"]["feed"]["nodes"]
    by_id = {n["id"]: n for n in feed}
    for post_id in (*mine, joined[0]):
        assert by_id[post_id]["reactions"]["viewerReaction"] == "SUPPORT", by_id[post_id]
    for post_id in mine:
        assert by_id[post_id]["viewerIsAuthor"] and by_id[post_id]["author"]["isViewer"]
    assert not by_id[joined[0]]["viewerIsAuthor"]
    assert [c["viewerIsAuthor"] for c in by_id[joined[0]]["comments"]["nodes"]] == [True]
    for post_id in joined[1:]:
        poll = by_id[post_id]["poll"]
        assert poll["viewerHasVoted"] and poll["totalVotes"] == 1, poll
        assert [o["votes"] for o in poll["options"]] == [1, 0]
    for post_id in (*mine, *joined):
        await system.graphql(POST, {"id": post_id}, token=viewer)
    await system.graphql(SEARCH, token=viewer)
    # Someone who has not voted sees no counts; another reader no viewer state.
    theirs = (await system.graphql(POST, {"id": joined[1]}, token=other))["data"]["post"]
    assert theirs["poll"]["viewerHasVoted"] is False
    assert theirs["poll"]["totalVotes"] is None
    assert {o["votes"] for o in theirs["poll"]["options"]} == {None}
    assert theirs["reactions"]["viewerReaction"] is None

    calls = recorder.to(CONTENT)
    seen = set().union(*(aliases_in(c) for c in calls))
    viewers = await owned_by(system, viewer_id, viewer, seen)
    assert len(viewers) >= 5, "the session gave the viewer several aliases"
    for call in calls:
        together = aliases_in(call) & viewers
        assert len(together) <= 1, (call.method, together)
    per_request: defaultdict[str, set[str]] = defaultdict(set)
    for call in calls:
        per_request[trace_of(call)] |= aliases_in(call) & viewers
    assert max(len(a) for a in per_request.values()) == 1, dict(per_request)


async def test_two_alias_bearing_writes_in_one_request_are_refused(
    recorded: tuple[System, RecordingInterceptor],
) -> None:
    system, recorder = recorded
    _, other = await system.account()
    _, viewer = await system.account()
    ids = []
    for title in ("Thread A", "Thread B"):
        body = await system.graphql(CREATE, {"i": post_input(title)}, token=other)
        ids.append(body["data"]["createPost"]["id"])
    before = len(recorder.to(CONTENT))
    documents = [
        f'mutation {{ a: react(postId: "{ids[0]}", reaction: LIKE) {{ id }} '
        f'b: react(postId: "{ids[1]}", reaction: LIKE) {{ id }} }}',
        f'mutation {{ react(postId: "{ids[0]}", reaction: LIKE) {{ id }} '
        f'votePoll(postId: "{ids[1]}", option: 0) {{ viewerHasVoted }} }}',
        # Fragments do not hide the second write.
        f'mutation {{ ...W react(postId: "{ids[1]}", reaction: LIKE) {{ id }} }} '
        f'fragment W on Mutation {{ addComment(input: {{postId: "{ids[0]}", body: "x"}}) '
        "{ id } }",
    ]
    for document in documents:
        body = await system.graphql(document, token=viewer, expect_errors=True)
        assert body.get("data") is None, body
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
        assert "one alias-bearing write" in error["message"], error
    assert len(recorder.to(CONTENT)) == before, "nothing reached content"
    # One write per request is fine.
    await system.graphql(
        "mutation($p: ID!) { react(postId: $p, reaction: LIKE) { id } }",
        {"p": ids[0]},
        token=viewer,
    )
