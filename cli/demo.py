"""Seeds demo posts through the running gateway, as the demo physicians, so the privacy line holds.

Everything goes through GraphQL exactly as a frontend would send it: the gateway asks
anonymity for each author's alias and content only ever sees that alias. Runs once: when
the feed already has posts it does nothing.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from cli.demo_corpus import DemoPost, load_demo_posts
from services.identity.seed import DEMO_PASSWORD, demo_physicians

_REACTIONS = ("LIKE", "INSIGHTFUL", "AGREE", "SUPPORT")


class DemoSeedError(RuntimeError):
    """The gateway refused part of the demo data (the message names the GraphQL error)."""


class _Gateway:
    def __init__(self, url: str) -> None:
        self._url = url
        self._tokens: dict[str, str] = {}

    def call(self, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 - the dev gateway on loopback
            self._url,
            data=json.dumps({"query": query, "variables": variables}).encode(),
            headers={"content-type": "application/json"}
            | ({"authorization": f"Bearer {token}"} if token else {}),
        )
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
            body = json.loads(reply.read())
        if body.get("errors"):
            error = body["errors"][0]
            code = error.get("extensions", {}).get("code", "")
            raise DemoSeedError(f"{code}: {error['message']}")
        return body["data"]

    def token(self, email: str) -> str:
        if email not in self._tokens:
            data = self.call(
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
                {"e": email, "p": DEMO_PASSWORD},
            )
            self._tokens[email] = data["login"]["token"]
        return self._tokens[email]


_CREATE = """mutation($input: CreatePostInput!) { createPost(input: $input) { id } }"""
_COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"""
_REACT = """mutation($p: ID!, $r: Reaction!) { react(postId: $p, reaction: $r) { id } }"""
_VOTE = """mutation($p: ID!, $o: Int!) { votePoll(postId: $p, option: $o) { totalVotes } }"""


def _post_input(post: DemoPost) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": post.kind,
        "community": post.community,
        "title": post.title,
        "body": post.body,
        "visibility": post.visibility,
    }
    if post.case is not None:
        values["case"] = {
            "ageBand": post.case.age_band,
            "sex": post.case.sex,
            "presentingComplaint": post.case.presenting_complaint,
            "history": post.case.history,
            "question": post.case.question,
            "specialtyTags": list(post.case.specialty_tags),
        }
    if post.poll_options:
        values["pollOptions"] = list(post.poll_options)
    return values


def demo_writes(posts: Sequence[DemoPost]) -> int:
    """The GraphQL writes seeding `posts` takes: each post, comment, reaction and vote."""
    return sum(1 + len(p.comments) + p.reactions + len(p.votes) for p in posts)


def seed_demo_content(
    url: str, on_start: Callable[[int], Callable[[int], None]] | None = None
) -> int:
    """Creates the demo posts (with comments, reactions, votes); returns how many posts.

    `on_start(total writes)`, called once seeding begins (not when the data is there
    already), returns the callback told how many writes are done after each one.
    """
    gateway = _Gateway(url)
    # Staff accounts stay out of the chatter; the physicians take turns.
    members = [p.email for p in demo_physicians() if len(p.roles) == 1]
    # The feed is for physicians only: look as the first demo physician.
    seen = gateway.call("{ feed(first: 1) { nodes { id } } }", {}, gateway.token(members[0]))
    if seen["feed"]["nodes"]:
        return 0
    demo_posts = load_demo_posts()
    progress = on_start(demo_writes(demo_posts)) if on_start else (lambda _done: None)
    done = 0

    def write(query: str, variables: dict[str, Any], token: str) -> Any:
        nonlocal done
        data = gateway.call(query, variables, token)
        done += 1
        progress(done)
        return data

    for number, post in enumerate(demo_posts):
        author = members[number % len(members)]
        others = [m for m in members if m != author]
        created = write(_CREATE, {"input": _post_input(post)}, gateway.token(author))
        post_id = created["createPost"]["id"]
        comment_ids: list[str] = []
        for index, comment in enumerate(post.comments):
            writer = author if comment.by_author else others[(number + index) % len(others)]
            values: dict[str, Any] = {
                "postId": post_id,
                "body": comment.body,
                "visibility": comment.visibility,
            }
            if comment.reply_to is not None:
                values["parentId"] = comment_ids[comment.reply_to]
            reply = write(_COMMENT, {"input": values}, gateway.token(writer))
            comment_ids.append(reply["addComment"]["id"])
        for index in range(post.reactions):
            reactor = others[(number * 3 + index) % len(others)]
            reaction = _REACTIONS[(number + index) % len(_REACTIONS)]
            write(_REACT, {"p": post_id, "r": reaction}, gateway.token(reactor))
        for index, option in enumerate(post.votes):
            voter = others[(number * 5 + index) % len(others)]
            write(_VOTE, {"p": post_id, "o": option}, gateway.token(voter))
    return len(demo_posts)
