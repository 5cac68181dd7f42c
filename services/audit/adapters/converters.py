"""Protobuf at the edge: filters from requests, rows from events, reports to responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from consilium.audit.v1 import audit_pb2 as pb
from plumbing.errors import FieldViolation, InvalidArgument
from plumbing.timestamps import to_datetime
from services.audit.domain.query import Cursor, EventFilter, micros
from services.audit.service import ChainReport

_TRACE_ID_HEX = frozenset("0123456789abcdef")


def _when(stamp: Timestamp) -> datetime:
    return to_datetime(stamp)


def _requested_when(message: pb.EventFilter, name: str) -> datetime | None:
    """A bound of the filter; one a datetime cannot hold is the caller's error, not ours."""
    if not message.HasField(name):  # type: ignore[arg-type]
        return None
    try:
        return _when(getattr(message, name))
    except (ValueError, OverflowError):
        raise InvalidArgument(
            [FieldViolation(f"filter.{name}", "is not a timestamp from year 1 to 9999")]
        ) from None


def _name(enum: Any, value: int, field: str) -> str:
    """The name of an enum value; a number this version does not know is refused."""
    try:
        return str(enum.Name(value))
    except ValueError:
        raise InvalidArgument([FieldViolation(field, "unknown value")]) from None


def filter_from_proto(message: pb.EventFilter) -> EventFilter:
    trace_id = message.trace_id.strip().lower()
    if trace_id and (len(trace_id) != 32 or not set(trace_id) <= _TRACE_ID_HEX):
        raise InvalidArgument(
            [FieldViolation("filter.trace_id", "a W3C trace id is 32 hexadecimal digits")]
        )
    return EventFilter(
        actor_id=message.actor_id,
        subject_id=message.subject_id,
        actions=frozenset(
            _name(pb.Action, a, f"filter.actions[{i}]") for i, a in enumerate(message.actions) if a
        ),
        decision=_name(pb.Decision, message.decision, "filter.decision")
        if message.decision
        else "",
        occurred_after=_requested_when(message, "occurred_after"),
        occurred_before=_requested_when(message, "occurred_before"),
        trace_id=trace_id,
        producer=message.producer,
    )


def row_from_event(event: pb.AuditEvent) -> dict[str, Any]:
    """The indexed columns of a stored event plus its exact bytes (the signed form)."""
    return {
        "producer": event.producer,
        "sequence": event.sequence,
        "event_id": event.event_id,
        "occurred_at_us": micros(_when(event.occurred_at)),
        "actor_id": event.actor_id,
        "actor_role": pb.ActorRole.Name(event.actor_role),
        "subject_id": event.subject_id,
        "subject_kind": pb.SubjectKind.Name(event.subject_kind),
        "action": pb.Action.Name(event.action),
        "decision": pb.Decision.Name(event.decision),
        "trace_id": event.trace_id.lower(),
    }


def event_from_bytes(data: bytes) -> pb.AuditEvent:
    event = pb.AuditEvent()
    event.ParseFromString(data)
    return event


def report_to_proto(report: ChainReport) -> pb.ChainReport:
    verdict = report.verdict
    return pb.ChainReport(
        producer=report.producer,
        ok=verdict.ok,
        event_count=verdict.event_count,
        last_sequence=verdict.last_sequence,
        log_size=report.log_size,
        gaps=[pb.SequenceGap(first_missing=a, last_missing=b) for a, b in verdict.gaps],
        problems=[
            pb.ChainProblem(
                sequence=p.sequence,
                event_id=p.event_id,
                kind=pb.ProblemKind.Value(f"PROBLEM_KIND_{p.kind}"),
                detail=p.detail,
            )
            for p in verdict.problems
        ],
    )


def cursor_of(event: pb.AuditEvent) -> str:
    """The page token that continues right after `event` (the ledger's (time, id) order)."""
    return Cursor(micros(_when(event.occurred_at)), event.event_id).encode()
