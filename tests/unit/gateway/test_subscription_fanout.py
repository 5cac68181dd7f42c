"""A live post costs the same upstream calls for 2 subscribers as for 40; viewers still differ;
the shareable fields that read the request are known (one more fails until reviewed).

The real schema and live feed run against counting fakes (fake_upstreams.py): subscriptions
are opened with `schema.subscribe` (no sockets), one PostCreated event is dispatched, and
every subscriber's delivery is checked. Milliseconds.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta
from inspect import signature
from typing import Any

from fake_upstreams import FakeAnonymity, FakeUpstreams, context, reader
from graphql import GraphQLObjectType, get_named_type
from strawberry.types.base import StrawberryObjectDefinition

from consilium.events.v1 import content_events_pb2 as events
from gateway.auth import Viewer
from gateway.caches import SharedCaches
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings
from gateway.subscriptions.feed import LiveFeed
from gateway.subscriptions.sharing import SHAREABLE
from plumbing.events.bus import Record
from plumbing.events.envelope import new_event
from plumbing.events.topics import CONTENT_POSTS

SCHEMA = build_schema(GatewaySettings())
POST = "pst_001"  # written by als_p001, which only the author's token owns
SHARED = """subscription { postAdded { id title viewerIsAuthor community { id name }
  author { aliasId handle isViewer } } }"""
#: reactions are per viewer: this selection executes per subscriber.
OWN = """subscription { postAdded { id viewerIsAuthor reactions { total viewerReaction } } }"""


@dataclasses.dataclass
class OwnersAnonymity(FakeAnonymity):
    """Anonymity that knows who holds the author's token, answering CheckAliasOwners."""

    author_token: str = "usr_author-token"

    async def alias_owners(self, alias_id: str, tokens: list[str]) -> set[str]:
        self.calls.record("CheckAliasOwners", [alias_id])
        return {t for t in tokens if alias_id == "als_p001" and t == self.author_token}


def _record() -> Record:
    message = events.PostCreated(post_id=POST, community_id="com_1", author_alias_id="als_p001")
    event = new_event(message, topic=CONTENT_POSTS, key=POST, source="/consilium/content")
    return Record(CONTENT_POSTS, 0, 0, None, None, (), event)


async def _deliver(readers: int, query: str) -> tuple[Counter[str], dict[str, Any]]:
    """`readers` subscribers and the author subscribe; one post is published. The calls the
    event cost, and what each subscriber (by user id) received."""
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=4, comments=0)
    upstreams.anonymity = OwnersAnonymity(upstreams.calls)
    feed = LiveFeed(
        None,  # type: ignore[arg-type]  # events are dispatched here, not consumed
        upstreams.content,  # type: ignore[arg-type]
        upstreams.anonymity,  # type: ignore[arg-type]
        buffer=4,
        max_subscribers=10_000,
    )
    users = ["usr_author", *(f"usr_{n}" for n in range(readers))]

    async def first_event(user: str) -> Any:
        # Each subscription lives in its own task, as on a socket (its context is its own).
        ctx = dataclasses.replace(context(upstreams, reader(user)), feed=feed)
        stream = await SCHEMA.subscribe(query, context_value=ctx)
        assert hasattr(stream, "__anext__"), stream
        try:
            return await anext(stream)  # type: ignore[arg-type]
        finally:
            await stream.aclose()  # type: ignore[union-attr]

    pending = {user: asyncio.create_task(first_event(user)) for user in users}
    async with asyncio.timeout(5):
        while len(feed.posts) < len(users):  # noqa: ASYNC110 - the feed offers no event
            await asyncio.sleep(0)
    upstreams.calls.clear()
    await feed._dispatch([_record()])
    async with asyncio.timeout(5):
        results = {user: await task for user, task in pending.items()}
    for user, result in results.items():
        assert result.errors is None, (user, result.errors)
    return upstreams.calls.counts(), {u: r.data["postAdded"] for u, r in results.items()}


async def test_a_live_post_costs_the_same_calls_for_any_number_of_subscribers() -> None:
    few, _ = await _deliver(2, SHARED)
    many, _ = await _deliver(40, SHARED)
    assert few == many
    # The post, its community and the author's persona once (none is cached here);
    # authorship once for everyone, never per viewer.
    assert many["BatchGetPosts"] == 1
    assert many["BatchGetCommunities"] == 1
    assert many["BatchDescribeAliases"] == 1
    assert many["CheckAliasOwners"] == 1
    assert "BatchCheckOwnership" not in many


async def test_each_subscriber_still_sees_whether_it_wrote_the_post() -> None:
    for query in (SHARED, OWN):
        _, seen = await _deliver(5, query)
        assert seen["usr_author"]["viewerIsAuthor"] is True
        others = [data for user, data in seen.items() if user != "usr_author"]
        assert len(others) == 5
        assert all(data["viewerIsAuthor"] is False for data in others)
        assert all(data["id"] == POST for data in seen.values())
    _, seen = await _deliver(3, SHARED)
    assert seen["usr_author"]["author"]["isViewer"] is True
    assert all(seen[f"usr_{n}"]["author"]["isViewer"] is False for n in range(3))


async def test_a_viewer_specific_selection_executes_per_subscriber() -> None:
    calls, seen = await _deliver(6, OWN)
    # Reactions need each viewer's own thread alias: asked per subscriber, never shared.
    assert calls["BatchGetThreadAliases"] == 7
    assert "BatchCheckOwnership" not in calls
    assert all(data["reactions"]["total"] == 1 for data in seen.values())


async def test_the_subscription_ends_when_the_token_expires() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=1, comments=0)
    feed = LiveFeed(
        None,  # type: ignore[arg-type]
        upstreams.content,  # type: ignore[arg-type]
        upstreams.anonymity,  # type: ignore[arg-type]
        buffer=4,
        max_subscribers=10,
    )
    viewer = reader()
    soon = datetime.now(UTC) + timedelta(seconds=0.2)
    viewer = Viewer(dataclasses.replace(viewer.claims, expires_at=soon), viewer.token)
    ctx = dataclasses.replace(context(upstreams, viewer), feed=feed)
    stream = await SCHEMA.subscribe(SHARED, context_value=ctx)
    try:
        async with asyncio.timeout(5):
            ended = await anext(stream)  # type: ignore[arg-type]
    finally:
        await stream.aclose()  # type: ignore[union-attr]
    assert ended.data is None
    assert [e.extensions["code"] for e in ended.errors] == ["UNAUTHENTICATED"]
    assert len(feed.posts) == 0  # and the feed stopped offering it events


#: The shareable fields whose resolver reads the request (`info`), and why their answer is
#: still the same for every subscriber with the same key. A field added under a shareable
#: name (the list is by name, on any type a live event reaches) fails here until its answer
#: is shown not to depend on the viewer, or the name leaves sharing.SHAREABLE.
READS_THE_REQUEST = {
    "Post.community": "the post's community, by id",
    "Post.author": "the author's frozen persona, by alias",
    "Comment.author": "the author's frozen persona, by alias",
    "Post.commentCount": "the post's visible comments, by id",
    "Post.viewerIsAuthor": "authorship: its answer is part of the key",
    "Comment.viewerIsAuthor": "authorship: its answer is part of the key",
    "Author.isViewer": "authorship: its answer is part of the key",
}


def test_every_shareable_field_reading_the_request_is_known() -> None:
    names = SCHEMA.config.name_converter
    root = SCHEMA._schema.subscription_type
    assert root is not None
    pending = [get_named_type(root.fields[f].type) for f in ("postAdded", "commentAdded")]
    seen: set[str] = set()
    reading: set[str] = set()
    while pending:
        compiled = pending.pop()
        definition = SCHEMA.get_type_by_name(compiled.name)
        if compiled.name in seen or not isinstance(definition, StrawberryObjectDefinition):
            continue
        seen.add(compiled.name)
        assert isinstance(compiled, GraphQLObjectType)
        for field in definition.fields:
            name = names.get_graphql_name(field)
            if name not in SHAREABLE:
                continue
            resolver = field.base_resolver
            if resolver is not None and "info" in signature(resolver.wrapped_func).parameters:
                reading.add(f"{compiled.name}.{name}")
            pending.append(get_named_type(compiled.fields[name].type))
    assert seen == {"Post", "Comment", "Author", "Community", "CaseDetails"}
    assert reading == set(READS_THE_REQUEST)
