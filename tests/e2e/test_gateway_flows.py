"""GraphQL flows through the gateway over real gRPC: posting, reading, moderating, refusing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from support.system import System, run_system

from gateway.clients.identity import IdentityClient
from plumbing.auth import Role
from plumbing.errors import DomainError, ErrorCode
from plumbing.grpc.caller import bearer_metadata

CREATE = """mutation($input: CreatePostInput!) { createPost(input: $input) {
  id kind title author { aliasId handle displayName verifiedPhysician isViewer } viewerIsAuthor
} }"""
COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) {
  id parentId author { aliasId displayName } viewerIsAuthor } }"""
POST = """query($id: ID!) { post(id: $id) {
  id title commentCount author { aliasId isViewer } viewerIsAuthor
  comments(first: 10) { nodes { id body author { aliasId } } pageInfo { hasNextPage } }
  reactions { total counts { reaction count } viewerReaction }
  poll { options { index text votes } viewerHasVoted totalVotes }
} }"""


def discussion(visibility: str, title: str = "Night shift", **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "kind": "DISCUSSION",
            "community": "lounge-stories",
            "title": title,
            "body": "A quiet night, for once.",
            "visibility": visibility,
            **extra,
        }
    }


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_each_visibility_shows_only_what_it_should(system: System) -> None:
    _, token = await system.account(full_name="Dr. Canary Visible")
    identified = (await system.graphql(CREATE, discussion("IDENTIFIED"), token=token))["data"]
    pseudo_1 = (await system.graphql(CREATE, discussion("PSEUDONYMOUS"), token=token))["data"]
    pseudo_2 = (await system.graphql(CREATE, discussion("PSEUDONYMOUS"), token=token))["data"]
    anon_1 = (await system.graphql(CREATE, discussion("ANONYMOUS"), token=token))["data"]
    anon_2 = (await system.graphql(CREATE, discussion("ANONYMOUS"), token=token))["data"]

    assert identified["createPost"]["author"]["displayName"] == "Dr. Canary Visible"
    for post in (pseudo_1, pseudo_2, anon_1, anon_2):
        assert post["createPost"]["author"]["displayName"] is None
        assert post["createPost"]["viewerIsAuthor"] is True
    alias = {
        name: p["createPost"]["author"]["aliasId"]
        for name, p in (
            ("id", identified),
            ("p1", pseudo_1),
            ("p2", pseudo_2),
            ("a1", anon_1),
            ("a2", anon_2),
        )
    }
    assert alias["p1"] == alias["p2"], "a pseudonym is stable across posts"
    assert len({alias["id"], alias["p1"], alias["a1"], alias["a2"]}) == 4

    _, reader = await system.account()
    seen = await system.graphql(POST, {"id": anon_1["createPost"]["id"]}, token=reader)
    assert seen["data"]["post"]["viewerIsAuthor"] is False
    assert seen["data"]["post"]["author"]["isViewer"] is False


async def test_thread_comments_reactions_and_votes(system: System) -> None:
    _, op = await system.account()
    _, colleague = await system.account()
    post = (await system.graphql(CREATE, discussion("ANONYMOUS"), token=op))["data"]["createPost"]
    first = await system.graphql(
        COMMENT,
        {"input": {"postId": post["id"], "body": "Sounds familiar.", "visibility": "ANONYMOUS"}},
        token=colleague,
    )
    reply = await system.graphql(
        COMMENT,
        {
            "input": {
                "postId": post["id"],
                "body": "Thanks, all.",
                "visibility": "ANONYMOUS",
                "parentId": first["data"]["addComment"]["id"],
            }
        },
        token=op,
    )
    comment = reply["data"]["addComment"]
    assert comment["parentId"] == first["data"]["addComment"]["id"]
    assert comment["author"]["aliasId"] == post["author"]["aliasId"], "readers can tell the OP"
    assert first["data"]["addComment"]["author"]["aliasId"] != post["author"]["aliasId"]

    await system.graphql(
        "mutation($p: ID!) { react(postId: $p, reaction: INSIGHTFUL) { id } }",
        {"p": post["id"]},
        token=colleague,
    )
    read = (await system.graphql(POST, {"id": post["id"]}, token=colleague))["data"]["post"]
    assert read["commentCount"] == 2
    assert read["reactions"]["total"] == 1
    assert read["reactions"]["viewerReaction"] == "INSIGHTFUL"
    assert [c["body"] for c in read["comments"]["nodes"]] == ["Sounds familiar.", "Thanks, all."]


async def test_poll_results_after_voting_and_one_vote_each(system: System) -> None:
    _, author = await system.account()
    _, voter = await system.account()
    poll = await system.graphql(
        CREATE,
        {
            "input": {
                "kind": "POLL",
                "community": "lounge-careers",
                "title": "Locums or staff?",
                "body": "",
                "pollOptions": ["Locums", "Staff", "Academia"],
            }
        },
        token=author,
    )
    post_id = poll["data"]["createPost"]["id"]
    before = (await system.graphql(POST, {"id": post_id}, token=voter))["data"]["post"]["poll"]
    assert before["viewerHasVoted"] is False
    assert [o["votes"] for o in before["options"]] == [None, None, None]
    voted = await system.graphql(
        "mutation($p: ID!) { votePoll(postId: $p, option: 1) { viewerHasVoted totalVotes"
        " options { votes } } }",
        {"p": post_id},
        token=voter,
    )
    assert voted["data"]["votePoll"]["viewerHasVoted"] is True
    assert [o["votes"] for o in voted["data"]["votePoll"]["options"]] == [0, 1, 0]
    again = await system.graphql(
        "mutation($p: ID!) { votePoll(postId: $p, option: 0) { totalVotes } }",
        {"p": post_id},
        token=voter,
        expect_errors=True,
    )
    assert codes(again) in (["ALREADY_EXISTS"], ["FAILED_PRECONDITION"])


async def test_feed_and_search(system: System) -> None:
    _, token = await system.account()
    titles = ["Refractory hyponatremia puzzle", "Best night-shift snacks", "Troponin leak"]
    for title in titles:
        await system.graphql(CREATE, discussion("PSEUDONYMOUS", title=title), token=token)
    feed = await system.graphql(
        "{ feed(first: 2) { nodes { title } pageInfo { hasNextPage endCursor } } }", token=token
    )
    page = feed["data"]["feed"]
    assert [n["title"] for n in page["nodes"]] == titles[::-1][:2]
    rest = await system.graphql(
        "query($a: String) { feed(first: 2, after: $a) { nodes { title } pageInfo { hasNextPage } } }",
        {"a": page["pageInfo"]["endCursor"]},
        token=token,
    )
    assert [n["title"] for n in rest["data"]["feed"]["nodes"]] == [titles[0]]
    found = await system.graphql(
        '{ search(text: "hyponatremia") { nodes { title } } }', token=token
    )
    assert [n["title"] for n in found["data"]["search"]["nodes"]] == [titles[0]]


async def test_register_login_me_and_verification(system: System) -> None:
    user_id, token = await system.register(fullName="Dr. New Member")
    me = await system.graphql("{ me { id fullName verification roles } }", token=token)
    assert me["data"]["me"] == {
        "id": user_id,
        "fullName": "Dr. New Member",
        "verification": "PENDING",
        "roles": ["MEMBER"],
    }
    refused = await system.graphql(CREATE, discussion("ANONYMOUS"), token=token, expect_errors=True)
    assert codes(refused) == ["FORBIDDEN"]
    _, member = await system.account()
    denied = await system.graphql(
        "mutation($u: ID!) { verifyPhysician(userId: $u, approve: true) { verification } }",
        {"u": user_id},
        token=member,
        expect_errors=True,
    )
    assert codes(denied) == ["FORBIDDEN"]
    _, admin = await system.account(Role.ADMIN)
    verified = await system.graphql(
        "mutation($u: ID!) { verifyPhysician(userId: $u, approve: true) { verification } }",
        {"u": user_id},
        token=admin,
    )
    assert verified["data"]["verifyPhysician"]["verification"] == "VERIFIED"
    again = await system.graphql(
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
        {"e": "nobody@example.org", "p": "whatever"},
        expect_errors=True,
    )
    assert codes(again) == ["UNAUTHENTICATED"]


async def test_bad_registration_names_every_field(system: System) -> None:
    body = await system.graphql(
        "mutation($i: RegisterInput!) { register(input: $i) { token } }",
        {
            "i": {
                "email": "nope",
                "password": "short",
                "fullName": "",
                "npi": "123",
                "specialty": "X",
                "country": "ZZ",
            }
        },
        expect_errors=True,
    )
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    fields = {v["field"] for v in error["extensions"]["fieldViolations"]}
    assert fields == {"email", "password", "full_name", "npi", "specialty_code", "country"}
    assert "nope" not in error["message"]


async def test_reveal_needs_a_moderator_and_a_purpose(system: System) -> None:
    author_id, author = await system.account(full_name="Dr. Canary Revealed")
    post = (await system.graphql(CREATE, discussion("ANONYMOUS"), token=author))["data"]
    alias = post["createPost"]["author"]["aliasId"]
    reveal = (
        "mutation($a: ID!, $p: String!) { revealAuthor(aliasId: $a, purpose: $p) { id fullName } }"
    )
    _, member = await system.account()
    assert codes(
        await system.graphql(reveal, {"a": alias, "p": "curious"}, token=member, expect_errors=True)
    ) == ["FORBIDDEN"]
    _, moderator = await system.account(Role.MODERATOR)
    assert codes(
        await system.graphql(reveal, {"a": alias, "p": " "}, token=moderator, expect_errors=True)
    ) == ["BAD_USER_INPUT"]
    revealed = await system.graphql(
        reveal, {"a": alias, "p": "threat of harm reported"}, token=moderator
    )
    assert revealed["data"]["revealAuthor"] == {"id": author_id, "fullName": "Dr. Canary Revealed"}


async def test_a_moderator_cannot_read_profiles_without_a_reveal(system: System) -> None:
    target_id, _ = await system.account()
    _, moderator = await system.account(Role.MODERATOR)
    client = IdentityClient(f"127.0.0.1:{system.identity.server.port}", deadline=5)
    try:
        with pytest.raises(DomainError) as caught:
            await client.get_physician(target_id, bearer_metadata(moderator))
    finally:
        await client.close()
    assert caught.value.code is ErrorCode.PERMISSION_DENIED


async def test_suspend_author_hides_their_post_without_revealing(tmp_path: Path) -> None:
    # Hiding reaches content only as anonymity's AliasSuspended event: the system runs events.
    async with run_system(tmp_path / "data", events=True) as system:
        _, author = await system.account()
        post = (await system.graphql(CREATE, discussion("ANONYMOUS"), token=author))["data"]
        alias = post["createPost"]["author"]["aliasId"]
        _, moderator = await system.account(Role.MODERATOR)
        suspended = await system.graphql(
            'mutation($a: ID!) { suspendAuthor(aliasId: $a, reason: "spam links") }',
            {"a": alias},
            token=moderator,
        )
        assert suspended["data"]["suspendAuthor"] is True
        deadline = time.monotonic() + 30
        while True:
            feed = await system.graphql(
                "{ feed(first: 10) { nodes { id } } }", token=await system.reader()
            )
            if post["createPost"]["id"] not in [n["id"] for n in feed["data"]["feed"]["nodes"]]:
                break
            assert time.monotonic() < deadline, "the suspended alias's post stayed visible"
            await asyncio.sleep(0.1)
        refused = await system.graphql(
            CREATE, discussion("ANONYMOUS"), token=author, expect_errors=True
        )
        assert codes(refused) in (["FAILED_PRECONDITION"], ["FORBIDDEN"])


async def test_anonymous_callers_get_public_data_and_clear_refusals(system: System) -> None:
    me = await system.graphql("{ me { id } }", expect_errors=True)
    assert codes(me) == ["UNAUTHENTICATED"]
    communities = await system.graphql("{ communities { id name } specialties { code name } }")
    assert any(c["id"] == "second-opinions" for c in communities["data"]["communities"])
    assert any(s["code"] == "207RC0000X" for s in communities["data"]["specialties"])
    bad = await system.graphql("{ me { id } }", token="not-a-token", expect_errors=True)
    assert codes(bad) == ["UNAUTHENTICATED"]
