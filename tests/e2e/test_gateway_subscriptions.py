"""Subscriptions over graphql-transport-ws: live posts and comments, personas, refusals, limits.

A real WebSocket client (`websockets`) talks to the gateway on loopback; events reach the
gateway's live feed through the bus content publishes to (the system's embedded bus, or a
real Kafka broker). The system harness runs content without its outbox relay, so after each
write the test publishes the event content emits for it (the same payload, topic and key);
every assertion tolerates the relay's own copy arriving as well.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from support.live_socket import (
    COMMENT,
    COMMENT_ADDED,
    CREATE,
    POST_ADDED,
    PROTOCOL,
    comment_created,
    event_bus,
    live,
    post_created,
    socket,
)
from support.system import System, run_system
from support.tracing import recorded_spans
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from plumbing.events.bus import EventBus
from plumbing.events.factory import create_bus
from plumbing.events.topics import CONTENT_POSTS, topic_specs


class Actions:
    """GraphQL writes through the gateway, each followed by the event content emits for it."""

    def __init__(self, system: System, bus: EventBus) -> None:
        self.system = system
        self.bus = bus

    async def post(self, token: str, community: str, visibility: str, title: str) -> dict[str, Any]:
        variables = {
            "input": {
                "kind": "DISCUSSION",
                "community": community,
                "title": title,
                "body": "Seen on the ward today.",
                "visibility": visibility,
            }
        }
        created = (await self.system.graphql(CREATE, variables, token=token))["data"]["createPost"]
        await self.bus.publish(
            [post_created(created["id"], community, created["author"]["aliasId"])]
        )
        return {**created, "community": community}

    async def comment(
        self, token: str, post_id: str, visibility: str, parent_id: str | None = None
    ) -> dict[str, Any]:
        variables = {
            "input": {
                "postId": post_id,
                "body": f"Agreed, {uuid.uuid4().hex[:6]}.",
                "visibility": visibility,
                **({"parentId": parent_id} if parent_id else {}),
            }
        }
        body = await self.system.graphql(COMMENT, variables, token=token)
        added: dict[str, Any] = body["data"]["addComment"]
        event = comment_created(added["id"], post_id, added["author"]["aliasId"], parent_id or "")
        await self.bus.publish([event])
        return added

    def republish_post(self, post: dict[str, Any]) -> Callable[[], Awaitable[None]]:
        async def probe() -> None:
            alias = post["author"]["aliasId"]
            await self.bus.publish([post_created(post["id"], post["community"], alias)])

        return probe

    def republish_comment(
        self, post_id: str, comment: dict[str, Any]
    ) -> Callable[[], Awaitable[None]]:
        async def probe() -> None:
            alias = comment["author"]["aliasId"]
            await self.bus.publish([comment_created(comment["id"], post_id, alias)])

        return probe


@pytest.fixture
async def actions(system: System) -> AsyncIterator[Actions]:
    async with event_bus(system) as bus:
        yield Actions(system, bus)


async def test_post_added_reaches_subscribers_of_that_community_only(
    system: System, actions: Actions
) -> None:
    _, reader = await system.account()
    _, author = await system.account(full_name="Dr. Canary Subscriber")
    probe = await actions.post(author, "second-opinions", "PSEUDONYMOUS", "Probe")
    async with socket(system, reader) as sock, socket(system, author) as own:
        await sock.subscribe("one", POST_ADDED, {"community": "second-opinions"})
        await sock.subscribe("all", POST_ADDED, {})
        await own.subscribe("mine", POST_ADDED, {"community": "second-opinions"})
        for s, op in ((sock, "one"), (sock, "all"), (own, "mine")):
            await live(s, op, actions.republish_post(probe))

        elsewhere = await actions.post(author, "lounge-stories", "ANONYMOUS", "Elsewhere")
        target = await actions.post(author, "second-opinions", "ANONYMOUS", "Live case")

        seen = await sock.next("one", skip={probe["id"]})
        assert seen["id"] == target["id"], "a post of another community came through"
        assert seen["title"] == "Live case"
        assert seen["community"] == {"id": "second-opinions"}
        assert seen["viewerIsAuthor"] is False
        assert seen["author"]["aliasId"] == target["author"]["aliasId"]
        assert seen["author"]["displayName"] is None, "an ANONYMOUS author shows no name"
        assert seen["author"]["handle"]
        assert seen["author"]["verifiedPhysician"] is True
        assert seen["author"]["isViewer"] is False

        expected = {elsewhere["id"], target["id"]}
        everywhere: set[str] = set()
        while everywhere != expected:  # in any order: the two posts sit on different partitions
            found = (await sock.next("all", skip={probe["id"], *everywhere}))["id"]
            assert found in expected
            everywhere.add(found)

        # The same event, resolved for its author: viewer-specific fields follow the subscriber.
        mine = await own.next("mine", skip={probe["id"]})
        assert mine["id"] == target["id"]
        assert mine["viewerIsAuthor"] is True
        assert mine["author"]["isViewer"] is True

        await sock.send({"id": "one", "type": "complete"})
        await actions.post(author, "second-opinions", "IDENTIFIED", "After completing")
        named = await sock.next("all", skip={probe["id"], *expected})
        assert named["author"]["displayName"] == "Dr. Canary Subscriber"
        with pytest.raises(TimeoutError):
            await sock.message("one", within=0.5)


async def test_comment_added_reaches_subscribers_of_that_post_only(
    system: System, actions: Actions
) -> None:
    _, reader = await system.account()
    _, op = await system.account()
    _, colleague = await system.account(full_name="Dr. Canary Commenter")
    post = await actions.post(op, "second-opinions", "ANONYMOUS", "Thread")
    other = await actions.post(op, "second-opinions", "ANONYMOUS", "Other thread")
    probe = await actions.comment(op, post["id"], "ANONYMOUS")
    async with socket(system, reader) as sock:
        await sock.subscribe("c", COMMENT_ADDED, {"postId": post["id"]})
        await live(sock, "c", actions.republish_comment(post["id"], probe))

        await actions.comment(colleague, other["id"], "ANONYMOUS")
        anonymous = await actions.comment(colleague, post["id"], "ANONYMOUS")
        seen = await sock.next("c", skip={probe["id"]})
        assert seen["id"] == anonymous["id"], "a comment on another post came through"
        assert seen["parentId"] is None
        assert seen["viewerIsAuthor"] is False
        assert seen["author"]["aliasId"] == anonymous["author"]["aliasId"]
        assert seen["author"]["displayName"] is None
        assert seen["author"]["isViewer"] is False

        reply = await actions.comment(
            colleague, post["id"], "IDENTIFIED", parent_id=anonymous["id"]
        )
        seen = await sock.next("c", skip={probe["id"], anonymous["id"]})
        assert seen["id"] == reply["id"]
        assert seen["parentId"] == anonymous["id"]
        assert seen["author"]["displayName"] == "Dr. Canary Commenter"


async def test_a_new_comment_is_found_past_the_first_page(system: System, actions: Actions) -> None:
    """Content lists a thread oldest first, in pages of at most 100: the newest comment of a
    long thread is not on the first page."""
    _, reader = await system.account()
    _, op = await system.account()
    post = await actions.post(op, "lounge-stories", "PSEUDONYMOUS", "Long thread")
    variables = {"input": {"postId": post["id"], "body": "Me too.", "visibility": "PSEUDONYMOUS"}}
    limit = asyncio.Semaphore(8)

    async def quiet_comment() -> dict[str, Any]:
        async with limit:
            body = await system.graphql(COMMENT, variables, token=op)
            added: dict[str, Any] = body["data"]["addComment"]
            return added

    earlier = await asyncio.gather(*(quiet_comment() for _ in range(120)))
    async with socket(system, reader) as sock:
        await sock.subscribe("c", COMMENT_ADDED, {"postId": post["id"]})
        await live(sock, "c", actions.republish_comment(post["id"], earlier[0]))
        newest = await actions.comment(op, post["id"], "PSEUDONYMOUS")
        seen = await sock.next("c", skip={c["id"] for c in earlier})
        assert seen["id"] == newest["id"]


async def test_hidden_posts_and_comments_are_never_sent(system: System, actions: Actions) -> None:
    _, reader = await system.account()
    _, suspended = await system.account()
    _, member = await system.account()
    visible = await actions.post(member, "lounge-stories", "PSEUDONYMOUS", "Visible")
    hidden = await actions.post(suspended, "lounge-stories", "PSEUDONYMOUS", "Soon hidden")
    hidden_comment = await actions.comment(suspended, visible["id"], "ANONYMOUS")
    probe_comment = await actions.comment(member, visible["id"], "ANONYMOUS")
    # Hidden as content's consumer of anonymity's AliasSuspended hides them (the gateway
    # never hides; this system runs no event consumers).
    aliases = [hidden["author"]["aliasId"], hidden_comment["author"]["aliasId"]]
    async with system.content.store.transaction() as repo:
        await repo.set_aliases_hidden(aliases, True, datetime.now(UTC))
    async with socket(system, reader) as sock:
        await sock.subscribe("p", POST_ADDED, {"community": "lounge-stories"})
        await sock.subscribe("c", COMMENT_ADDED, {"postId": visible["id"]})
        await live(sock, "p", actions.republish_post(visible))
        await live(sock, "c", actions.republish_comment(visible["id"], probe_comment))

        # The events of hidden content (as a redelivery would bring them), then a visible one.
        await actions.republish_post(hidden)()
        await actions.republish_comment(visible["id"], hidden_comment)()
        after_post = await actions.post(member, "lounge-stories", "PSEUDONYMOUS", "After")
        after_comment = await actions.comment(member, visible["id"], "PSEUDONYMOUS")
        assert (await sock.next("p", skip={visible["id"]}))["id"] == after_post["id"]
        assert (await sock.next("c", skip={probe_comment["id"]}))["id"] == after_comment["id"]


async def test_connection_init_with_a_bad_token_is_refused(system: System) -> None:
    url = system.gateway_url.replace("http://", "ws://", 1)
    async with connect(url, subprotocols=[PROTOCOL], proxy=None, open_timeout=10) as ws:
        init = {"type": "connection_init", "payload": {"authorization": "Bearer not-a-token"}}
        await ws.send(json.dumps(init))
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403
    assert closed.value.rcvd.reason.startswith("Forbidden")


async def test_subscriptions_need_sign_in_and_a_known_target(system: System) -> None:
    _, reader = await system.account()
    async with socket(system, None) as anonymous:
        await anonymous.subscribe("p", POST_ADDED, {})
        refused = await anonymous.message("p")
        assert refused["type"] == "next", refused
        assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == [
            "UNAUTHENTICATED"
        ]
        assert (await anonymous.message("p"))["type"] == "complete"
    async with socket(system, reader) as sock:
        await sock.subscribe("p", POST_ADDED, {"community": "no-such-community"})
        await sock.subscribe("c", COMMENT_ADDED, {"postId": "post_does_not_exist"})
        for op in ("p", "c"):
            refused = await sock.message(op)
            codes = [e["extensions"]["code"] for e in refused["payload"]["errors"]]
            assert codes == ["NOT_FOUND"], refused


async def test_a_subscriber_that_falls_behind_is_ended_alone(tmp_path: Path) -> None:
    async with (
        run_system(tmp_path / "data", subscription_buffer=2) as system,
        event_bus(system) as bus,
    ):
        actions = Actions(system, bus)
        _, reader = await system.account()
        _, author = await system.account()
        lounge = await actions.post(author, "lounge-stories", "PSEUDONYMOUS", "Busy")
        cases = await actions.post(author, "second-opinions", "PSEUDONYMOUS", "Quiet")
        async with socket(system, reader) as sock:
            await sock.subscribe("slow", POST_ADDED, {"community": "lounge-stories"})
            await sock.subscribe("calm", POST_ADDED, {"community": "second-opinions"})
            await live(sock, "slow", actions.republish_post(lounge))
            await live(sock, "calm", actions.republish_post(cases))

            # One batch of 20 events: far more than the 2 the slow subscription may hold.
            alias = lounge["author"]["aliasId"]
            burst = [post_created(lounge["id"], "lounge-stories", alias) for _ in range(20)]
            await bus.publish(burst)
            await actions.republish_post(cases)()

            assert (await sock.next("calm"))["id"] == cases["id"]
            messages = [await sock.message("slow")]
            while messages[-1]["type"] != "complete":
                messages.append(await sock.message("slow"))
            *delivered, end, _complete = messages
            assert len(delivered) <= 2 + 1, "more than it may hold (plus a late probe)"
            (error,) = end["payload"]["errors"]
            assert error["extensions"]["code"] == "UNAVAILABLE"
            assert "fell more than 2 events behind" in error["message"]
            assert "subscribe again" in error["message"]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Real trace ids for this test (see support.tracing)."""
    with recorded_spans() as exporter:
        yield exporter


async def test_a_live_event_stays_in_the_trace_that_caused_it(
    system: System, actions: Actions, spans: InMemorySpanExporter
) -> None:
    _, reader = await system.account()
    _, author = await system.account()
    probe = await actions.post(author, "second-opinions", "PSEUDONYMOUS", "Probe")
    variables = {
        "input": {
            "kind": "DISCUSSION",
            "community": "second-opinions",
            "title": "Traced",
            "body": "A body.",
        }
    }
    target = (await system.graphql(CREATE, variables, token=author))["data"]["createPost"]
    async with socket(system, reader) as sock:
        counted = POST_ADDED.replace("viewerIsAuthor", "viewerIsAuthor commentCount")
        await sock.subscribe("p", counted, {"community": "second-opinions"})
        await live(sock, "p", actions.republish_post(probe))
        with trace.get_tracer("e2e").start_as_current_span("the request that posted") as cause:
            event = post_created(target["id"], "second-opinions", target["author"]["aliasId"])
        assert event.traceparent is not None
        await actions.bus.publish([event])
        seen = await sock.next("p", skip={probe["id"]})
        assert seen["id"] == target["id"]
        assert seen["viewerIsAuthor"] is False

    trace_id = cause.get_span_context().trace_id
    in_trace = [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]
    (consume,) = [s for s in in_trace if s.name == f"consume {CONTENT_POSTS}"]
    assert consume.parent is not None
    assert consume.parent.span_id == cause.get_span_context().span_id
    assert consume.attributes is not None
    assert consume.attributes["messaging.message.id"] == event.id
    names = {s.name for s in in_trace}
    # Resolved once by the feed, under the consumer span, authorship included (asked once
    # for every subscriber showing it, not by each) ...
    assert "/consilium.content.v1.ContentService/BatchGetPosts" in names
    assert "/consilium.anonymity.v1.AnonymityService/CheckAliasOwners" in names
    assert "/consilium.anonymity.v1.AnonymityService/BatchCheckOwnership" not in names
    # ... and the subscriber's own fields (here commentCount) in the same trace.
    assert "/consilium.content.v1.ContentService/BatchCountComments" in names


@pytest.mark.kafka
async def test_the_live_feed_reads_a_real_kafka_broker(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    admin = create_bus(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path, client_id="e2e-admin")
    await admin.create_topics(topic_specs())  # as `consilium topics create` does on a cluster
    await admin.close()
    async with (
        run_system(tmp_path / "data", kafka_bootstrap=kafka_bootstrap) as system,
        event_bus(system, kafka_bootstrap) as bus,
    ):
        actions = Actions(system, bus)
        _, reader = await system.account()
        _, author = await system.account()
        probe = await actions.post(author, "second-opinions", "PSEUDONYMOUS", "Probe")
        async with socket(system, reader) as sock:
            await sock.subscribe("p", POST_ADDED, {"community": "second-opinions"})
            # The replica's group joins in the background on Kafka: probe until it reads.
            await live(sock, "p", actions.republish_post(probe))
            await actions.post(author, "lounge-stories", "ANONYMOUS", "Elsewhere")
            target = await actions.post(author, "second-opinions", "ANONYMOUS", "On Kafka")
            seen = await sock.next("p", skip={probe["id"]})
            assert seen["id"] == target["id"]
            assert seen["author"]["displayName"] is None
