"""A subscriber receives a post created by another user, carried by content's own events
(outbox -> relay -> bus -> the gateway's feed), on the embedded bus and on real Kafka."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.live_socket import COMMENT, COMMENT_ADDED, CREATE, POST_ADDED, Socket, socket
from support.system import System, run_system

from plumbing.auth import Role


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
async def evented(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[System]:
    bootstrap = request.getfixturevalue("kafka_bootstrap") if request.param == "kafka" else None
    async with run_system(tmp_path / "data", events=True, kafka_bootstrap=bootstrap) as system:
        yield system


async def first_of_mine(sock: Socket, op: str, create: Any, attempts: int = 20) -> dict[str, Any]:
    """Creates items until the subscription delivers one of them: there is no "subscribed"
    acknowledgement in graphql-transport-ws, so the first ones may precede the subscription."""
    mine: set[str] = set()
    for _ in range(attempts):
        mine.add(await create())
        with contextlib.suppress(TimeoutError):
            while True:
                value = await sock.next(op, within=1.0)
                if value["id"] in mine:
                    return value
    pytest.fail("no created item reached the subscriber")


async def test_post_and_comment_by_another_user_arrive(evented: System) -> None:
    _, author = await evented.account()
    _, reader = await evented.account(Role.MEMBER)
    async with socket(evented, reader) as sock:
        await sock.subscribe("posts", POST_ADDED, {"community": "lounge-stories"})

        async def new_post() -> str:
            body = await evented.graphql(
                CREATE,
                {
                    "input": {
                        "kind": "DISCUSSION",
                        "community": "lounge-stories",
                        "title": "Live",
                        "body": "Posted while you watch.",
                        "visibility": "ANONYMOUS",
                    }
                },
                token=author,
            )
            return str(body["data"]["createPost"]["id"])

        post = await first_of_mine(sock, "posts", new_post)
        assert post["viewerIsAuthor"] is False
        assert post["author"]["displayName"] is None and post["author"]["isViewer"] is False

        await sock.subscribe("comments", COMMENT_ADDED, {"postId": post["id"]})

        async def new_comment() -> str:
            body = await evented.graphql(
                COMMENT,
                {
                    "input": {
                        "postId": post["id"],
                        "body": "Watching too.",
                        "visibility": "PSEUDONYMOUS",
                    }
                },
                token=author,
            )
            return str(body["data"]["addComment"]["id"])

        comment = await first_of_mine(sock, "comments", new_comment)
        assert comment["body"] == "Watching too."
        assert comment["author"]["isViewer"] is False
