"""`consilium audit trace`: one request's audit events in order, and the services it crossed.

The services come from an OTLP JSON export (the collector's file exporter: one
`{"resourceSpans": [...]}` document, or one per line): every span of the trace, ordered by start
time, named by its resource's `service.name`, and the service-to-service edges parent -> child.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consilium.audit.v1 import audit_pb2 as pb


@dataclass(frozen=True, slots=True)
class Span:
    service: str
    name: str
    span_id: str
    parent_id: str
    start: int


def _documents(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _service(resource: dict[str, Any]) -> str:
    for attribute in resource.get("attributes", []):
        if attribute.get("key") == "service.name":
            return str(attribute.get("value", {}).get("stringValue", "?"))
    return "?"


def spans_of(path: Path, trace_id: str) -> list[Span]:
    """The trace's spans in the export, by start time (OTLP JSON ids are hex)."""
    found = []
    for document in _documents(path):
        for resource_spans in document.get("resourceSpans", []):
            service = _service(resource_spans.get("resource", {}))
            for scope in resource_spans.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    if str(span.get("traceId", "")).lower() != trace_id:
                        continue
                    found.append(
                        Span(
                            service,
                            str(span.get("name", "")),
                            str(span.get("spanId", "")).lower(),
                            str(span.get("parentSpanId", "")).lower(),
                            int(span.get("startTimeUnixNano", 0)),
                        )
                    )
    return sorted(found, key=lambda s: s.start)


def services_crossed(spans: list[Span]) -> tuple[list[str], list[tuple[str, str]]]:
    """(services in order of first appearance, distinct parent -> child service edges)."""
    order: list[str] = []
    for span in spans:
        if span.service not in order:
            order.append(span.service)
    by_id = {s.span_id: s for s in spans}
    edges: list[tuple[str, str]] = []
    for span in spans:
        parent = by_id.get(span.parent_id)
        if parent is not None and parent.service != span.service:
            edge = (parent.service, span.service)
            if edge not in edges:
                edges.append(edge)
    return order, edges


def event_line(event: pb.AuditEvent) -> str:
    when = event.occurred_at.ToJsonString()
    fields = ",".join(event.fields) or "-"
    decision = pb.Decision.Name(event.decision).removeprefix("DECISION_")
    role = pb.ActorRole.Name(event.actor_role).removeprefix("ACTOR_ROLE_")
    return (
        f"{when} {event.producer}#{event.sequence} span {event.span_id} "
        f"{pb.Action.Name(event.action).removeprefix('ACTION_')} {decision} "
        f"actor {event.actor_id} ({role}) "
        f"subject {event.subject_id} fields {fields} purpose {event.purpose!r}"
    )
