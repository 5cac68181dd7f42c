"""QueryEvents: what the consumer stored, for auditors only, filtered and paged oldest first."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from audit_harness import T0, Ledger, envelope, rpc_error
from google.protobuf.timestamp_pb2 import Timestamp

from consilium.audit.v1 import audit_pb2 as pb
from plumbing.auth import Role


async def test_an_ingested_event_comes_back_exactly_as_the_producer_signed_it(
    ledger: Ledger,
) -> None:
    producer = ledger.producer()
    event = producer.next(purpose="court order 7")
    await ledger.ingest(event)

    reply = await ledger.query()

    assert list(reply.events) == [event]
    assert reply.next_page_token == ""


async def test_redelivered_and_republished_events_are_stored_once(ledger: Ledger) -> None:
    producer = ledger.producer()
    first, second = producer.next(), producer.next()
    records = [envelope(first), envelope(second)]
    await ledger.publish(*records)
    # The same records again (redelivery), and the same event under a new envelope id
    # (a producer's relay sending it twice).
    await ledger.publish(*records)
    await ledger.ingest(first)

    reply = await ledger.query()

    assert [e.event_id for e in reply.events] == [first.event_id, second.event_id]
    assert ledger.instance.access_events.appended == 2


@pytest.mark.parametrize("role", [None, Role.MEMBER, Role.MODERATOR, Role.ADMIN])
async def test_only_auditors_may_read_the_ledger(ledger: Ledger, role: Role | None) -> None:
    await ledger.ingest(ledger.producer().next())
    metadata = await ledger.token(role) if role else ()

    for call in (
        ledger.stub.QueryEvents(pb.QueryEventsRequest(), metadata=metadata),
        ledger.stub.VerifyChain(pb.VerifyChainRequest(), metadata=metadata),
    ):
        error = await rpc_error(call)
        expected = (
            grpc.StatusCode.UNAUTHENTICATED if role is None else grpc.StatusCode.PERMISSION_DENIED
        )
        assert error.code() == expected


async def test_a_forged_token_is_refused(ledger: Ledger) -> None:
    error = await rpc_error(
        ledger.stub.QueryEvents(
            pb.QueryEventsRequest(), metadata=(("authorization", "Bearer not.a.token"),)
        )
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_each_filter_selects_only_matching_events(ledger: Ledger) -> None:
    anonymity = ledger.producer("anonymity")
    identity = ledger.producer("identity")
    reveal = anonymity.next(minutes=0, actor_id="usr_mod_a", subject_id="als_1")
    denied = anonymity.next(
        minutes=10,
        actor_id="usr_member",
        actor_role=pb.ACTOR_ROLE_MEMBER,
        subject_id="als_2",
        decision=pb.DECISION_DENIED,
        denial_reason="PERMISSION_DENIED: needs MODERATOR",
    )
    suspend = anonymity.next(minutes=20, actor_id="usr_mod_a", action=pb.ACTION_SUSPEND_ALIAS)
    read = identity.next(
        minutes=30,
        actor_id="usr_admin",
        actor_role=pb.ACTOR_ROLE_ADMIN,
        subject_id="usr_subject",
        subject_kind=pb.SUBJECT_KIND_USER,
        action=pb.ACTION_READ_PROFILE,
    )
    await ledger.ingest(reveal, denied, suspend, read)

    async def ids(**filter_fields: object) -> list[str]:
        reply = await ledger.query(**filter_fields)
        return [e.event_id for e in reply.events]

    def at(minutes: int) -> Timestamp:
        stamp = Timestamp()
        stamp.FromDatetime(T0 + timedelta(minutes=minutes))
        return stamp

    assert await ids() == [e.event_id for e in (reveal, denied, suspend, read)]
    assert await ids(actor_id="usr_mod_a") == [reveal.event_id, suspend.event_id]
    assert await ids(subject_id="als_2") == [denied.event_id]
    assert await ids(actions=[pb.ACTION_SUSPEND_ALIAS, pb.ACTION_READ_PROFILE]) == [
        suspend.event_id,
        read.event_id,
    ]
    assert await ids(decision=pb.DECISION_DENIED) == [denied.event_id]
    assert await ids(decision=pb.DECISION_GRANTED, producer="anonymity") == [
        reveal.event_id,
        suspend.event_id,
    ]
    assert await ids(producer="identity") == [read.event_id]
    assert await ids(trace_id=denied.trace_id.upper()) == [denied.event_id]
    # After is inclusive, before exclusive.
    assert await ids(occurred_after=at(10), occurred_before=at(30)) == [
        denied.event_id,
        suspend.event_id,
    ]
    assert await ids(actor_id="usr_mod_a", actions=[pb.ACTION_READ_PROFILE]) == []


async def test_pages_walk_every_event_once_oldest_first(ledger: Ledger) -> None:
    producer = ledger.producer()
    # Two at the same instant: the event id breaks the tie, so none is skipped or repeated.
    events = [producer.next(minutes=m) for m in (3, 1, 1, 2, 0, 4, 5)]
    await ledger.ingest(*events)
    expected = [
        e.event_id for e in sorted(events, key=lambda e: (e.occurred_at.ToDatetime(), e.event_id))
    ]

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        reply = await ledger.query(page_size=3, page_token=token)
        assert len(reply.events) <= 3
        seen.extend(e.event_id for e in reply.events)
        pages += 1
        token = reply.next_page_token
        if not token:
            break

    assert seen == expected
    assert pages == 3


async def test_page_size_has_a_default_and_a_maximum(ledger: Ledger) -> None:
    producer = ledger.producer()
    await ledger.ingest(*(producer.next() for _ in range(205)))

    default = await ledger.query()
    largest = await ledger.query(page_size=10_000)
    rest = await ledger.query(page_size=10_000, page_token=largest.next_page_token)

    assert len(default.events) == 50
    assert default.next_page_token
    assert len(largest.events) == 200
    assert len(rest.events) == 5
    assert rest.next_page_token == ""


async def test_a_page_token_not_issued_by_the_ledger_is_a_bad_argument(ledger: Ledger) -> None:
    error = await rpc_error(ledger.query(page_token="!!not-a-token!!"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_malformed_trace_id_filter_is_a_bad_argument(ledger: Ledger) -> None:
    error = await rpc_error(ledger.query(trace_id="xyz"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
