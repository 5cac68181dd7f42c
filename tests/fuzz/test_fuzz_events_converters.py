"""Property tests of event decoding and the protobuf converters at the services' edges.

A record off the bus is an Event or a MalformedEvent (which the consumer dead-letters), never
another exception; a request message from a peer converts to a domain value or an
InvalidArgument, never an internal error.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given, settings
from hypothesis import strategies as st

from consilium.audit.v1 import audit_pb2 as apb
from consilium.content.v1 import content_pb2 as cpb
from consilium.events.v1 import identity_events_pb2 as iev
from plumbing.errors import InvalidArgument
from plumbing.events.envelope import Event, MalformedEvent, from_record
from services.anonymity.adapters.event_converters import physician_change
from services.audit.adapters.converters import filter_from_proto
from services.content.adapters.converters import draft_from_proto

BOUNDED = settings(max_examples=80, derandomize=True, database=None, deadline=None)

HEADER_NAMES = [
    "ce_specversion",
    "ce_id",
    "ce_type",
    "ce_source",
    "ce_time",
    "content-type",
    "traceparent",
]
TYPES = [iev.PhysicianRegistered.DESCRIPTOR.full_name, iev.PhysicianErased.DESCRIPTOR.full_name]
header_values = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=40).map(str.encode),
    st.sampled_from([b"1.0", b"application/protobuf", b"2026-11-29T12:00:00+00:00", b""]),
    st.sampled_from([t.encode() for t in TYPES]),
)
headers = st.lists(
    st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=12)), header_values),
    max_size=10,
)
events = st.builds(
    Event,
    id=st.text(min_size=1, max_size=20),
    type=st.sampled_from(TYPES),
    source=st.text(min_size=1, max_size=20),
    topic=st.just("identity.physicians.v1"),
    key=st.text(max_size=20),
    data=st.binary(max_size=60),
    time=st.datetimes(timezones=st.just(UTC)),
    traceparent=st.none() | st.text(min_size=1, max_size=60),
)


@BOUNDED
@given(events)
def test_an_event_survives_its_record(event: Event) -> None:
    found = from_record(event.topic, event.key.encode(), event.data, event.headers())
    assert found == event


@BOUNDED
@given(st.binary(max_size=20) | st.none(), st.binary(max_size=80) | st.none(), headers)
def test_any_record_is_an_event_or_malformed(
    key: bytes | None, value: bytes | None, found: list[tuple[str, bytes]]
) -> None:
    try:
        event = from_record("identity.physicians.v1", key, value, found)
    except MalformedEvent:
        return
    # And a consumer decoding it gets a change, nothing to do, or MalformedEvent.
    with contextlib.suppress(MalformedEvent):
        physician_change(event)


#: Whole int64 seconds and out-of-range nanos: what a buggy or hostile peer can send.
timestamps = st.builds(
    Timestamp, seconds=st.integers(-(2**63), 2**63 - 1), nanos=st.integers(-(2**31), 2**31 - 1)
)
enum_values = st.integers(-(2**31), 2**31 - 1)


@BOUNDED
@given(
    st.lists(enum_values, max_size=4),
    enum_values,
    st.none() | timestamps,
    st.none() | timestamps,
    st.text(max_size=40),
)
def test_an_audit_filter_converts_or_is_an_invalid_argument(
    actions: list[int],
    decision: int,
    after: Timestamp | None,
    before: Timestamp | None,
    trace_id: str,
) -> None:
    message = apb.EventFilter(trace_id=trace_id)
    message.actions.extend(actions)  # type: ignore[arg-type]
    message.decision = decision  # type: ignore[assignment]
    if after is not None:
        message.occurred_after.CopyFrom(after)
    if before is not None:
        message.occurred_before.CopyFrom(before)
    with contextlib.suppress(InvalidArgument):
        filter_from_proto(message)


@BOUNDED
@given(enum_values, enum_values, enum_values, st.none() | timestamps)
def test_a_post_draft_converts_or_is_an_invalid_argument(
    kind: int, age_band: int, sex: int, closes: Timestamp | None
) -> None:
    request = cpb.CreatePostRequest(kind=kind, title="t")  # type: ignore[arg-type]
    request.case.age_band = age_band  # type: ignore[assignment]
    request.case.sex = sex  # type: ignore[assignment]
    if closes is not None:
        request.poll_closes_at.CopyFrom(closes)
    try:
        draft = draft_from_proto(request)
    except InvalidArgument:
        return
    assert draft.poll_closes_at is None or draft.poll_closes_at.tzinfo is not None
    assert isinstance(draft.poll_closes_at, datetime | None)
