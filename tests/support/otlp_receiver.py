"""A real OTLP/gRPC trace receiver on loopback, writing what it receives the way the OTel
collector's file exporter does: one OTLP JSON `ExportTraceServiceRequest` per line.

OTLP JSON differs from protobuf's default JSON mapping in two ways the file exporter follows:
trace and span ids are lower-case hex (not base64), and enums are integers. `consilium audit
trace --otlp` reads exactly that format.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as tpb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _hex_ids(node: Any) -> Any:
    """protobuf's JSON gives bytes as base64; OTLP JSON wants the ids as hex."""
    if isinstance(node, dict):
        return {
            key: base64.b64decode(value).hex()
            if key in _ID_FIELDS and isinstance(value, str)
            else _hex_ids(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(item) for item in node]
    return node


def otlp_json(request: tpb.ExportTraceServiceRequest) -> str:
    """One line of the collector's file exporter."""
    document = MessageToDict(request, use_integers_for_enums=True)
    return json.dumps(_hex_ids(document), separators=(",", ":"))


def text_of(value: AnyValue) -> str:
    """Every string an attribute value holds, joined (arrays and maps included)."""
    which = value.WhichOneof("value")
    if which == "array_value":
        return " ".join(text_of(v) for v in value.array_value.values)
    if which == "kvlist_value":
        return " ".join(f"{kv.key}={text_of(kv.value)}" for kv in value.kvlist_value.values)
    return str(getattr(value, which)) if which else ""


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    service: str
    span: Span

    @property
    def trace_id(self) -> str:
        return self.span.trace_id.hex()

    @property
    def span_id(self) -> str:
        return self.span.span_id.hex()

    @property
    def parent_id(self) -> str:
        return self.span.parent_span_id.hex()

    def strings(self) -> Iterator[str]:
        """Everything a span says in text: its name, attributes, events and links."""
        yield self.span.name
        for attribute in self.span.attributes:
            yield f"{attribute.key}={text_of(attribute.value)}"
        for event in self.span.events:
            yield event.name
            for attribute in event.attributes:
                yield f"{attribute.key}={text_of(attribute.value)}"
        for span_link in self.span.links:
            for attribute in span_link.attributes:
                yield f"{attribute.key}={text_of(attribute.value)}"
        yield self.span.status.message


@dataclass
class OtlpReceiver(trace_service_pb2_grpc.TraceServiceServicer):
    """Collects every exported span; appends each export to `file` as OTLP JSON."""

    file: Path
    spans: list[ReceivedSpan] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def Export(
        self, request: tpb.ExportTraceServiceRequest, context: Any
    ) -> tpb.ExportTraceServiceResponse:
        with self.file.open("a") as out:
            out.write(otlp_json(request) + "\n")
        async with self._arrived:
            for resource_spans in request.resource_spans:
                attributes = {a.key: text_of(a.value) for a in resource_spans.resource.attributes}
                self.resources.extend(f"{k}={v}" for k, v in attributes.items())
                service = attributes.get("service.name", "?")
                for scope in resource_spans.scope_spans:
                    self.spans.extend(ReceivedSpan(service, span) for span in scope.spans)
            self._arrived.notify_all()
        return tpb.ExportTraceServiceResponse()

    def of_trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.trace_id == trace_id]

    async def wait_for(self, trace_id: str, services: set[str]) -> None:
        """Until spans of every one of `services` arrived in the trace (bound it by the
        caller's `asyncio.timeout`)."""

        def complete() -> bool:
            return services <= {s.service for s in self.of_trace(trace_id)}

        async with self._arrived:
            await self._arrived.wait_for(complete)

    async def wait_for_parents(self, trace_id: str) -> None:
        """Until every span of the trace that names a parent has its parent here too: each
        process exports in its own batches, so a child (the ledger consuming an event) can
        arrive before the span it continues (bound it by the caller's `asyncio.timeout`)."""

        def complete() -> bool:
            spans = self.of_trace(trace_id)
            ids = {s.span_id for s in spans}
            return all(not s.parent_id or s.parent_id in ids for s in spans)

        async with self._arrived:
            await self._arrived.wait_for(complete)


async def start_receiver(receiver: OtlpReceiver) -> tuple[grpc.aio.Server, int]:
    """Serves `receiver` on an ephemeral loopback port: (server, port)."""
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(receiver, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port
