"""The event envelope: CloudEvents attributes in binary mode (record headers) plus `traceparent`."""

from __future__ import annotations

import builtins
import contextlib
import contextvars
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.message import DecodeError, Message
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"
M = TypeVar("M", bound=Message)

Headers = Sequence[tuple[str, bytes]]

_tracer = trace.get_tracer("consilium.events")
# Set while a handler works on a person-keyed event: each event it makes starts its own trace.
_fresh_traces: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "consilium_events_fresh_traces", default=False
)


@contextlib.contextmanager
def fresh_trace_per_event() -> Iterator[None]:
    """Within it, every `new_event` starts a new root trace with no link to the current one.

    For work that crosses the privacy line (A3): a person-keyed event (keyed by user id) must
    not share a trace id with the alias-keyed events made while handling it, nor may those
    events share one with each other, or a reader of the topics could group one person's
    aliases by trace id.
    """
    reset = _fresh_traces.set(True)
    try:
        yield
    finally:
        _fresh_traces.reset(reset)


class MalformedEvent(Exception):
    """A record that is not a valid Consilium event (its text names what is wrong)."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event: a protobuf payload (`data`) with its CloudEvents attributes.

    `type` is the payload's full protobuf name (e.g. `consilium.events.v1.PostCreated`), so a
    consumer knows how to decode it; `key` is the aggregate id that orders the topic.
    """

    id: str
    type: str
    source: str
    topic: str
    key: str
    data: bytes = field(repr=False)
    time: datetime
    traceparent: str | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        headers = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_type", self.type.encode()),
            ("ce_source", self.source.encode()),
            ("ce_time", self.time.isoformat().encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]
        if self.traceparent:
            headers.append(("traceparent", self.traceparent.encode()))
        return headers

    def decode(self, message_type: builtins.type[M]) -> M:
        """The payload as `message_type`; MalformedEvent if it is another type or corrupt."""
        if self.type != message_type.DESCRIPTOR.full_name:
            raise MalformedEvent(f"expected {message_type.DESCRIPTOR.full_name}, got {self.type}")
        message = message_type()
        try:
            message.ParseFromString(self.data)
        except DecodeError as exc:
            raise MalformedEvent(f"payload of {self.type} does not decode") from exc
        return message


def new_event(message: Message, *, topic: str, key: str, source: str) -> Event:
    """An event for `message`, carrying the current trace context (W3C `traceparent`), or a
    trace of its own inside `fresh_trace_per_event`."""
    carrier: dict[str, str] = {}
    if _fresh_traces.get():
        # A root span with no parent and no links: the event's trace starts here. Under a
        # no-op tracer provider it is invalid and the event carries no traceparent at all.
        root = _tracer.start_span(
            f"produce {topic}", context=otel_context.Context(), kind=trace.SpanKind.PRODUCER
        )
        root.end()
        propagate.inject(carrier, context=trace.set_span_in_context(root))
    else:
        propagate.inject(carrier)
    return Event(
        id=uuid.uuid4().hex,
        type=message.DESCRIPTOR.full_name,
        source=source,
        topic=topic,
        key=key,
        data=message.SerializeToString(),
        time=datetime.now(UTC),
        traceparent=carrier.get("traceparent"),
    )


def from_record(topic: str, key: bytes | None, value: bytes | None, headers: Headers) -> Event:
    """Reads an event from a record; MalformedEvent names the first missing or bad attribute."""
    found: dict[str, str] = {}
    for name, raw in headers or ():
        try:
            found[name] = raw.decode() if raw is not None else ""
        except UnicodeDecodeError as exc:
            raise MalformedEvent(f"header {name} is not UTF-8") from exc
    for required in ("ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time"):
        if not found.get(required):
            raise MalformedEvent(f"header {required} is missing")
    if found["ce_specversion"] != SPEC_VERSION:
        raise MalformedEvent(f"unsupported CloudEvents version {found['ce_specversion']}")
    if found.get("content-type", CONTENT_TYPE) != CONTENT_TYPE:
        raise MalformedEvent(f"unsupported content type {found['content-type']}")
    try:
        time = datetime.fromisoformat(found["ce_time"])
    except ValueError as exc:
        raise MalformedEvent("header ce_time is not an RFC 3339 time") from exc
    return Event(
        id=found["ce_id"],
        type=found["ce_type"],
        source=found["ce_source"],
        topic=topic,
        key=(key or b"").decode(errors="replace"),
        data=value or b"",
        time=time,
        traceparent=found.get("traceparent") or None,
    )
