"""Content's events end to end: PostCreated and CommentCreated out, alias events in.

Each test runs on SQLite and PostgreSQL, with the embedded bus and with a real Kafka broker.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import grpc
from content_harness import alias, rpc_error
from events_harness import EventsClient, eventually
from google.protobuf.wrappers_pb2 import StringValue
from test_content_privacy import CANARIES, every_rpc

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import types_pb2 as tpb
from consilium.events.v1 import anonymity_events_pb2 as apb
from consilium.events.v1 import content_events_pb2 as cpb
from plumbing.events.bus import Record
from plumbing.events.envelope import Event
from plumbing.events.topics import ANONYMITY_ALIASES, CONTENT_POSTS

POST_CREATED = cpb.PostCreated.DESCRIPTOR.full_name
COMMENT_CREATED = cpb.CommentCreated.DESCRIPTOR.full_name
DLQ = f"{ANONYMITY_ALIASES}.dlq"


def keyed(records: list[Record], key: str) -> list[Record]:
    return [r for r in records if r.key == key.encode()]


async def feed_ids(events: EventsClient) -> set[str]:
    page = await events.content.stub.ListFeed(pb.ListFeedRequest(first=100))
    return {p.post_id for p in page.posts}


async def search_ids(events: EventsClient, text: str) -> set[str]:
    page = await events.content.stub.Search(pb.SearchRequest(text=text, first=100))
    return {p.post_id for p in page.posts}


async def test_create_post_and_add_comment_put_one_event_each_on_the_topic(
    content_events: EventsClient,
) -> None:
    events = content_events
    await events.start_bus_only()
    author, commenter = alias(), alias()
    post = await events.content.case(author_alias_id=author)
    reply = await events.content.stub.AddComment(
        pb.AddCommentRequest(
            post_id=post.post_id, author_alias_id=commenter, body="Yes, with care."
        )
    )
    comment = reply.comment

    assert await events.relay.publish_pending() == 2
    assert await events.relay.publish_pending() == 0  # sent rows are not sent again
    records = keyed(
        await events.read(CONTENT_POSTS, lambda rs: len(keyed(rs, post.post_id)) >= 2),
        post.post_id,
    )

    assert [r.event.type for r in records if r.event] == [POST_CREATED, COMMENT_CREATED]
    created, commented = (r.event for r in records if r.event)
    assert created.decode(cpb.PostCreated) == cpb.PostCreated(
        post_id=post.post_id,
        community_id="cardiology",
        kind=tpb.POST_KIND_CASE,
        author_alias_id=author,
        created_at=post.created_at,
    )
    assert commented.decode(cpb.CommentCreated) == cpb.CommentCreated(
        comment_id=comment.comment_id,
        post_id=post.post_id,
        parent_id="",
        author_alias_id=commenter,
        created_at=comment.created_at,
        # The aliases it answers (anonymity tells their owners), content's own data already.
        post_author_alias_id=author,
        parent_author_alias_id="",
    )
    for record in records:
        headers = dict(record.headers)
        assert headers["ce_source"] == b"/consilium/content"
        assert headers["content-type"] == b"application/protobuf"


async def test_refused_and_retried_writes_emit_nothing_more(content_events: EventsClient) -> None:
    events = content_events
    await events.start_bus_only()
    stub = events.content.stub
    refused_author = alias()
    error = await rpc_error(
        events.content.post(
            author_alias_id=refused_author, body="Call her on +1 415 555 0134 about the MRN 884512"
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await events.relay.publish_pending() == 0

    author = alias()
    first = await events.content.post(author_alias_id=author, request_id="req-1")
    again = await events.content.post(author_alias_id=author, request_id="req-1")
    assert again.post_id == first.post_id
    comment = pb.AddCommentRequest(
        request_id="req-2", post_id=first.post_id, author_alias_id=alias(), body="Same here."
    )
    once = await stub.AddComment(comment)
    twice = await stub.AddComment(comment)
    assert twice.comment.comment_id == once.comment.comment_id

    assert await events.relay.publish_pending() == 2
    records = await events.read(CONTENT_POSTS, lambda rs: len(keyed(rs, first.post_id)) >= 2)
    assert [r.event.type for r in keyed(records, first.post_id) if r.event] == [
        POST_CREATED,
        COMMENT_CREATED,
    ]
    authors = {
        r.event.decode(cpb.PostCreated).author_alias_id
        for r in records
        if r.event and r.event.type == POST_CREATED
    }
    assert refused_author not in authors


async def test_suspension_hides_and_reinstatement_restores_and_redelivery_changes_nothing(
    content_events: EventsClient,
) -> None:
    events = content_events
    suspended, bystander = alias(), alias()
    word = f"zz{uuid.uuid4().hex[:10]}"
    theirs = {
        (await events.content.post(author_alias_id=suspended, body=f"{word} one")).post_id,
        (await events.content.post(author_alias_id=suspended, body=f"{word} two")).post_id,
    }
    other = (await events.content.post(author_alias_id=bystander, body=word)).post_id
    await events.start_all()

    suspend = await events.publish_alias_event(
        apb.AliasSuspended(alias_id=suspended, cause=apb.ALIAS_SUSPENSION_CAUSE_ACCOUNT_SUSPENDED),
        suspended,
    )

    async def hidden() -> bool:
        return not (await feed_ids(events)) & theirs

    await eventually(hidden, "AliasSuspended hides the alias's posts from the feed")
    assert other in await feed_ids(events)
    assert await search_ids(events, word) == {other}
    got = await events.content.stub.GetPost(pb.GetPostRequest(post_id=min(theirs)))
    assert got.post.hidden and got.post.body == ""

    await events.publish_alias_event(apb.AliasReinstated(alias_id=suspended), suspended)

    async def shown() -> bool:
        return theirs <= await feed_ids(events)

    await eventually(shown, "AliasReinstated shows the alias's posts again")
    assert await search_ids(events, word) == theirs | {other}

    # The suspension once more, as at-least-once delivery may bring it: it is recognised
    # by its id and skipped; were it applied again, the posts would vanish.
    skipped = events.consumer.skipped
    await events.bus.publish([suspend])

    async def redelivered() -> bool:
        return events.consumer.skipped > skipped

    await eventually(redelivered, "the redelivered event is processed")
    assert theirs <= await feed_ids(events)
    assert await search_ids(events, word) == theirs | {other}


async def test_an_orphaned_alias_keeps_its_posts_visible_and_cannot_write(
    content_events: EventsClient,
) -> None:
    events = content_events
    orphan = alias()
    post = await events.content.post(author_alias_id=orphan)
    await events.start_all()

    await events.publish_alias_event(apb.AliasOrphaned(alias_id=orphan), orphan)

    async def orphaned() -> bool:
        async with events.content.instance.store.transaction() as repo:
            return await repo.orphaned([orphan]) == {orphan}

    await eventually(orphaned, "AliasOrphaned flags the alias")
    assert post.post_id in await feed_ids(events)
    got = await events.content.stub.GetPost(pb.GetPostRequest(post_id=post.post_id))
    assert not got.post.hidden and got.post.body == post.body

    refused_post = await rpc_error(events.content.post(author_alias_id=orphan))
    assert refused_post.code() == grpc.StatusCode.FAILED_PRECONDITION
    refused_comment = await rpc_error(
        events.content.stub.AddComment(
            pb.AddCommentRequest(post_id=post.post_id, author_alias_id=orphan, body="Still here?")
        )
    )
    assert refused_comment.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_malformed_records_are_dead_lettered_and_the_next_event_still_applies(
    content_events: EventsClient,
) -> None:
    events = content_events
    target = alias()
    post = await events.content.post(author_alias_id=target)
    await events.start_all()
    # The embedded bus runs one transaction at a time on its connection, which the relay
    # and the consumer's dead letters share: let the relay send the post's event first.
    await events.outbox_sent()

    # Not an event at all (no CloudEvents headers) ...
    await events.bus.publish_raw(ANONYMITY_ALIASES, target.encode(), b"not an event", [])
    # ... an AliasSuspended whose payload does not decode ...
    corrupt = Event(
        id=uuid.uuid4().hex,
        type=apb.AliasSuspended.DESCRIPTOR.full_name,
        source="/consilium/anonymity",
        topic=ANONYMITY_ALIASES,
        key=target,
        data=b"\xff\xff\xff\xff",
        time=datetime.now(UTC),
    )
    await events.bus.publish([corrupt])
    # ... and one naming a user id where an alias id belongs (P1: content refuses it).
    await events.publish_alias_event(apb.AliasSuspended(alias_id="usr_" + "0" * 26), target)
    # Then a good event behind them, in the same partition (same key).
    await events.publish_alias_event(apb.AliasSuspended(alias_id=target), target)

    async def hidden() -> bool:
        return post.post_id not in await feed_ids(events)

    await eventually(hidden, "the good event behind the bad ones is applied")
    dead = keyed(await events.read(DLQ, lambda rs: len(keyed(rs, target)) >= 3), target)
    reasons = sorted(dict(r.headers)["x-consilium-dead-letter-reason"].decode() for r in dead)
    assert len(dead) == 3, reasons
    assert reasons[0] == "InvalidArgument after 5 attempts"
    assert reasons[1] == "MalformedEvent after 5 attempts"
    assert reasons[2].startswith("malformed: header ce_specversion is missing")
    assert {r.value for r in dead} >= {b"not an event", b"\xff\xff\xff\xff"}
    assert all(dict(r.headers)["x-consilium-consumer-group"] == b"content" for r in dead)


async def test_event_records_carry_no_user_id_and_no_canary(content_events: EventsClient) -> None:
    """P1: keys, values and headers of content.posts.v1 after every RPC, canaries included."""
    events = content_events
    await events.start_bus_only()
    await every_rpc(events.content)
    marker = await events.content.post(body="A plain marker post.")
    sent = await events.relay.publish_pending()
    assert sent >= 4  # the case, the poll, the comment and the marker

    records = await events.read(CONTENT_POSTS, lambda rs: bool(keyed(rs, marker.post_id)))
    assert len({r.event.id for r in records if r.event}) >= sent
    for record in records:
        raw = b"".join(
            [record.key or b"", record.value or b""]
            + [name.encode() + value for name, value in record.headers]
        )
        assert b"usr_" not in raw
        for canary in CANARIES:
            assert canary.encode() not in raw, canary
        assert b"plain marker" not in raw  # post text stays out of events too


async def test_an_event_type_content_does_not_know_is_skipped_not_dead_lettered(
    content_events: EventsClient,
) -> None:
    """So that anonymity can add an event type without stalling or flooding this consumer."""
    events = content_events
    await events.start_all()
    target = alias()
    await events.publish_alias_event(StringValue(value="from the future"), target)
    # A record that is dead-lettered, behind it in the same partition: once it is in the
    # dead-letter topic, the unknown one has been dealt with.
    await events.bus.publish_raw(ANONYMITY_ALIASES, target.encode(), b"marker", [])

    dead = keyed(await events.read(DLQ, lambda rs: bool(keyed(rs, target))), target)
    assert [r.value for r in dead] == [b"marker"]
