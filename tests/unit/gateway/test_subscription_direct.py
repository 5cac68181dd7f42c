"""Live posts through graphql-transport-ws: one execution per answer, never another's answer.

Each subscriber is a real AuthenticatingHandler over a fake socket (the frames it would send,
parsed), on the real schema and live feed with counting fakes. Subscribers whose answer is
shared take it as a frame (gateway/subscriptions/direct.py) without executing; the author of
the post and its readers share the same document, so only the key keeps the author's
`viewerIsAuthor`/`isViewer` from reaching the readers, or the readers' from the author; and
the viewer-specific fields under a shared one (`community { viewerFollows }`) execute per viewer.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from datetime import timedelta
from typing import Any

import pytest
from fake_upstreams import FakeAnonymity, FakeUpstreams, context, reader

from consilium.events.v1 import content_events_pb2 as events
from gateway.caches import SharedCaches
from gateway.loaders import create_loaders
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings
from gateway.subscriptions import sharing
from gateway.subscriptions.feed import LiveFeed
from gateway.subscriptions.websocket import AuthenticatingHandler
from plumbing.events.bus import Record
from plumbing.events.envelope import new_event
from plumbing.events.topics import CONTENT_POSTS

SCHEMA = build_schema(GatewaySettings())
POST = "pst_001"  # written by als_p001, which only the author's token owns
AUTHOR = "usr_author"
SHARED = """subscription { postAdded { id title viewerIsAuthor community { id name }
  author { aliasId handle isViewer } } }"""
#: reactions are per viewer: every subscriber executes this one for itself.
OWN = """subscription { postAdded { id viewerIsAuthor reactions { total viewerReaction } } }"""


@dataclasses.dataclass
class OwnersAnonymity(FakeAnonymity):
    """Anonymity that knows who holds the author's token, answering CheckAliasOwners."""

    async def alias_owners(self, alias_id: str, tokens: list[str]) -> set[str]:
        self.calls.record("CheckAliasOwners", [alias_id])
        return {t for t in tokens if alias_id == "als_p001" and t == f"{AUTHOR}-token"}


#: Only this user follows the event's community (com_1).
FOLLOWER = "usr_follower"


class FollowsIdentity:
    """Identity's ListFollowedCommunities: com_1 for the follower's token, nothing for others."""

    async def followed(self, metadata: tuple[tuple[str, str], ...]) -> list[str]:
        return ["com_1"] if ("authorization", f"Bearer {FOLLOWER}-token") in metadata else []


class View:
    """The view's part a handler uses: no persisted operations, nothing to add on connect."""

    async def on_ws_connect(self, context: object) -> None:
        return None


class FakeSocket:
    """What a handler sends, as JSON messages; it never receives (messages are handed in)."""

    def __init__(self) -> None:
        self.sent: list[Mapping[str, Any]] = []
        self.arrived = asyncio.Event()

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        await asyncio.Event().wait()
        yield None  # pragma: no cover

    async def send_json(self, message: Mapping[str, object]) -> None:
        self.sent.append(message)
        self.arrived.set()

    async def close(self, code: int, reason: str) -> None:
        raise AssertionError(f"closed: {code} {reason}")

    def next(self, operation_id: str) -> list[dict[str, Any]]:
        return [
            m["payload"]
            for m in self.sent
            if m["type"] == "next" and m["id"] == operation_id  # type: ignore[comparison-overlap]
        ]


@dataclasses.dataclass
class Live:
    upstreams: FakeUpstreams
    feed: LiveFeed
    executions: list[object]

    async def connect(self, user: str) -> tuple[AuthenticatingHandler, FakeSocket]:
        ws = FakeSocket()
        viewer = reader(user)
        ctx = dataclasses.replace(
            context(self.upstreams, viewer),
            feed=self.feed,
            # Identity answers each viewer's own follows (by the token it forwards).
            loaders=create_loaders(
                self.upstreams.anonymity,  # type: ignore[arg-type]
                self.upstreams.content,  # type: ignore[arg-type]
                viewer,
                identity=FollowsIdentity(),  # type: ignore[arg-type]
                caches=self.upstreams.caches,
            ),
        )
        handler = AuthenticatingHandler(
            view=View(),  # type: ignore[arg-type]
            websocket=ws,  # type: ignore[arg-type]
            context=ctx,
            root_value=None,
            schema=SCHEMA,
            connection_init_wait_timeout=timedelta(minutes=1),
        )
        await handler.handle_message({"type": "connection_init"})
        assert [m["type"] for m in ws.sent] == ["connection_ack"]
        ws.sent.clear()
        return handler, ws

    async def publish(self) -> None:
        message = events.PostCreated(post_id=POST, community_id="com_1", author_alias_id="als_p001")
        event = new_event(message, topic=CONTENT_POSTS, key=POST, source="/consilium/content")
        self.upstreams.calls.clear()
        self.executions.clear()
        await self.feed._dispatch([Record(CONTENT_POSTS, 0, 0, None, None, (), event)])


@pytest.fixture
async def live(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Live]:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=4, comments=0)
    upstreams.anonymity = OwnersAnonymity(upstreams.calls)
    feed = LiveFeed(
        None,  # type: ignore[arg-type]  # events are dispatched here, not consumed
        upstreams.content,  # type: ignore[arg-type]
        upstreams.anonymity,  # type: ignore[arg-type]
        buffer=4,
        max_subscribers=10_000,
    )
    executions: list[object] = []
    execute = sharing.SharingExecutor.execute_operation

    def counted(self: sharing.SharingExecutor, serially: bool | None = None) -> Any:
        executions.append(self.root_value)
        return execute(self, serially)

    monkeypatch.setattr(sharing.SharingExecutor, "execute_operation", counted)
    yield Live(upstreams, feed, executions)


Sockets = list[tuple[str, AuthenticatingHandler, FakeSocket]]


async def _subscribe(live: Live, users: list[str], query: str) -> Sockets:
    sockets = [(user, *await live.connect(user)) for user in users]
    for _, handler, _ in sockets:
        await handler.handle_message({"id": "p", "type": "subscribe", "payload": {"query": query}})
    async with asyncio.timeout(5):
        while len(live.feed.posts) < len(users):  # noqa: ASYNC110 - the feed offers no event
            await asyncio.sleep(0)
    return sockets


async def _received(sockets: Sockets) -> list[tuple[str, dict[str, Any]]]:
    """Each subscriber's one `next` payload (by user), once every socket has one."""
    async with asyncio.timeout(5):
        for _, _, ws in sockets:
            while not ws.next("p"):
                ws.arrived.clear()
                await ws.arrived.wait()
    seen = []
    for user, _, ws in sockets:
        [payload] = ws.next("p")
        assert set(payload) == {"data"}, payload  # no errors, no extensions
        seen.append((user, payload["data"]["postAdded"]))
        ws.sent.clear()
    return seen


async def _close(sockets: Sockets) -> None:
    for _, handler, _ in sockets:
        await handler.shutdown()


async def test_readers_and_the_author_never_get_each_others_authorship(live: Live) -> None:
    # The author subscribes among the readers (first, in the middle, last): whoever executes
    # first for a key, the other key's subscribers must not take its answer.
    for position in (0, 3, 6):
        users = [f"usr_{n}" for n in range(6)]
        users.insert(position, AUTHOR)
        sockets = await _subscribe(live, users, SHARED)
        try:
            for _ in range(2):  # and again on the next event
                await live.publish()
                seen = await _received(sockets)
                assert all(data["id"] == POST for _, data in seen)
                for user, data in seen:
                    mine = user == AUTHOR
                    assert data["viewerIsAuthor"] is mine, user
                    assert data["author"]["isViewer"] is mine, user
                # One execution for the author, one for every reader: the rest took it as sent.
                assert len(live.executions) == 2
                # Both from what the feed resolved once: no call of their own.
                calls = live.upstreams.calls.counts()
                assert calls["CheckAliasOwners"] == calls["BatchGetCommunities"] == 1
                assert "BatchCheckOwnership" not in calls
        finally:
            await _close(sockets)


async def test_subscribers_of_one_viewer_share_its_answer_and_only_theirs(live: Live) -> None:
    users = [AUTHOR, "usr_a", AUTHOR, "usr_b", AUTHOR]
    sockets = await _subscribe(live, users, SHARED)
    try:
        await live.publish()
        seen = await _received(sockets)
        assert [data["author"]["isViewer"] for _, data in seen] == [u == AUTHOR for u in users]
        assert len(live.executions) == 2
    finally:
        await _close(sockets)


async def test_a_viewer_specific_selection_executes_for_every_subscriber(live: Live) -> None:
    users = [AUTHOR, "usr_a", "usr_b"]
    sockets = await _subscribe(live, users, OWN)
    try:
        await live.publish()
        seen = await _received(sockets)
        assert len(live.executions) == len(users)
        assert [data["viewerIsAuthor"] for _, data in seen] == [True, False, False]
        assert live.upstreams.calls.counts()["BatchGetThreadAliases"] == len(users)
    finally:
        await _close(sockets)


#: `viewerFollows` is per viewer, under a shareable `community`: asked plainly, aliased, and
#: through fragments, it must make the selection execute for each subscriber.
FOLLOWS = [
    "subscription { postAdded { id community { id viewerFollows } } }",
    "subscription { postAdded { id community { id f: viewerFollows } } }",
    """subscription { postAdded { id community { ...C } } }
       fragment C on Community { id viewerFollows }""",
    "subscription { postAdded { id community { ... on Community { viewerFollows } } } }",
    """subscription { postAdded { ...P } }
       fragment P on Post { id community { viewerFollows } }""",
]


@pytest.mark.parametrize("query", FOLLOWS)
async def test_one_viewers_follow_never_reaches_another_subscriber(live: Live, query: str) -> None:
    # The follower first (it would lead a shared key) and last (it would follow one).
    for users in (
        [FOLLOWER, "usr_a", "usr_b"],
        ["usr_a", "usr_b", FOLLOWER],
    ):
        sockets = await _subscribe(live, users, query)
        try:
            await live.publish()
            seen = await _received(sockets)
            follows = [
                data["community"].get("viewerFollows", data["community"].get("f"))
                for _, data in seen
            ]
            assert follows == [u == FOLLOWER for u in users], (users, follows)
            assert len(live.executions) == len(users)
        finally:
            await _close(sockets)


#: Authorship asked through an alias or a fragment only: the feed must still ask it for the
#: subscriber (so the key holds its answer) and never send the author's answer to readers.
AUTHORSHIP = [
    "subscription { postAdded { id me: viewerIsAuthor } }",
    "subscription { postAdded { id ... on Post { me: viewerIsAuthor } } }",
    """subscription { postAdded { id author { ...A } } }
       fragment A on Author { handle me: isViewer }""",
]


@pytest.mark.parametrize("query", AUTHORSHIP)
async def test_authorship_through_aliases_and_fragments_stays_with_the_author(
    live: Live, query: str
) -> None:
    for users in ([AUTHOR, "usr_a", "usr_b"], ["usr_a", "usr_b", AUTHOR]):
        sockets = await _subscribe(live, users, query)
        try:
            await live.publish()
            seen = await _received(sockets)
            mine = [data.get("me", data.get("author", {}).get("me")) for _, data in seen]
            assert mine == [u == AUTHOR for u in users], (users, mine)
            assert len(live.executions) == 2  # the author's answer, and the readers' one
        finally:
            await _close(sockets)
