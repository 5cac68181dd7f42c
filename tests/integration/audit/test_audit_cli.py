"""`consilium audit verify --from-topic` and `consilium audit trace`: the auditor's view of the
topic as producers published it, and of one request across services."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from audit_harness import Ledger, Producer, envelope
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession
from tamper_scene import Scene, altered, kinds

from cli.audit import Options, run_trace, run_verify
from consilium.audit.v1 import audit_pb2 as pb
from consilium.events.v1 import audit_events_pb2 as epb
from plumbing.auditchain import link
from plumbing.auth import Role
from plumbing.events.factory import embedded_path
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS
from services.audit.adapters.store import append


async def options_for(ledger: Ledger, **extra: object) -> Options:
    token = dict(await ledger.token(Role.AUDITOR))["authorization"].split()[1]
    values: dict[str, object] = {
        "token": token,
        "address": f"127.0.0.1:{ledger.instance.server.port}",
        "data_dir": ledger.data_dir,
    }
    values.update(extra)
    return Options(**values)  # type: ignore[arg-type]


async def test_the_topic_verifies_and_a_forged_record_on_it_is_named(scene: Scene) -> None:
    options = await options_for(scene.ledger, producers=scene.producers_file)
    assert (await run_verify(options, from_topic=True)).findings == []
    forger = Producer(
        "identity",
        Ed25519PrivateKey.generate(),
        scene.identity.key_id,
        sequence=scene.identity.sequence,
        last_hash=scene.identity.last_hash,
    )
    await scene.ledger.ingest(forger.next())

    outcome = await run_verify(options, from_topic=True)

    assert "FORGED" in kinds(outcome)


async def test_the_topic_is_held_against_the_auditors_kept_checkpoint(scene: Scene) -> None:
    # An event the ledger holds and signed into its log, though no producer ever published it.
    async with AsyncSession(scene.ledger.instance.engine) as session, session.begin():
        await append(session, scene.identity.next())
    options = await options_for(scene.ledger, producers=scene.producers_file)
    assert (await run_verify(options, state_file=scene.state_file)).findings == []

    outcome = await run_verify(options, state_file=scene.state_file, from_topic=True)

    assert kinds(outcome) == {"TRUNCATED"}
    assert "holds 6 events, only 5 are served" in outcome.findings[0].detail


@pytest.mark.kafka
async def test_verify_reads_a_kafka_topic(kafka_ledger: Ledger, kafka_bootstrap: str) -> None:
    name = f"identity-{uuid.uuid4().hex[:8]}"
    producer = kafka_ledger.producer(name)
    await kafka_ledger.bus.publish([envelope(producer.next()) for _ in range(3)])
    skipped = producer.next()  # never published: a gap on the topic
    del skipped
    await kafka_ledger.bus.publish([envelope(producer.next())])
    options = await options_for(kafka_ledger)

    outcome = await run_verify(
        options, from_topic=True, kafka_bootstrap=kafka_bootstrap, only=[name]
    )

    assert [(f.producer, f.kind) for f in outcome.findings] == [(name, "GAP")]
    assert f"{name}: 4 events on the topic" in outcome.notes


async def test_trace_shows_one_requests_events_and_the_services_it_crossed(
    ledger: Ledger, tmp_path: Path
) -> None:
    trace_id = uuid.uuid4().hex
    anonymity, identity = ledger.producer("anonymity"), ledger.producer("identity")
    await ledger.ingest(
        anonymity.next(trace_id=trace_id, minutes=1),
        identity.next(trace_id=trace_id, minutes=2, action=7, subject_kind=1),
        anonymity.next(),  # another request
    )
    spans = [
        ("gateway", "aa" * 8, "", 1),
        ("anonymity", "bb" * 8, "aa" * 8, 2),
        ("identity", "cc" * 8, "bb" * 8, 3),
        ("audit", "dd" * 8, "cc" * 8, 4),
    ]
    export = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": span,
                                "parentSpanId": parent,
                                "name": f"{service} work",
                                "startTimeUnixNano": str(start),
                            }
                        ]
                    }
                ],
            }
            for service, span, parent, start in spans
        ]
    }
    otlp = tmp_path / "spans.json"
    otlp.write_text(json.dumps(export))

    lines = await run_trace(await options_for(ledger), trace_id.upper(), otlp)

    assert lines[0] == f"trace {trace_id}: 2 audit event(s)"
    assert "anonymity#1" in lines[1] and "REVEAL_ALIAS" in lines[1]
    assert "identity#1" in lines[2] and "READ_PROFILE" in lines[2]
    assert lines[3] == "services crossed: gateway -> anonymity -> identity -> audit"
    assert lines[4:7] == [
        "  gateway -> anonymity",
        "  anonymity -> identity",
        "  identity -> audit",
    ]


def _edit_topic(data_dir: Path, change: Callable[[pb.AuditEvent], pb.AuditEvent | None]) -> None:
    """Rewrites the embedded bus's audit records in place, as someone with its file would:
    `change` returns the event to store instead, the same event, or None to delete it."""
    with sqlite3.connect(embedded_path(data_dir)) as conn:
        rows = conn.execute(
            'SELECT partition, "offset", value FROM records WHERE topic = ?',
            (AUDIT_IDENTITY_ACCESS,),
        ).fetchall()
        for partition, offset, value in rows:
            event = epb.IdentityAccessRecorded.FromString(value).event
            where = (AUDIT_IDENTITY_ACCESS, partition, offset)
            replacement = change(event)
            if replacement is None:
                conn.execute(
                    'DELETE FROM records WHERE topic = ? AND partition = ? AND "offset" = ?', where
                )
            elif replacement is not event:
                data = epb.IdentityAccessRecorded(event=replacement).SerializeToString()
                conn.execute(
                    'UPDATE records SET value = ? WHERE topic = ? AND partition = ? AND "offset" = ?',
                    (data, *where),
                )


def _tampers(scene: Scene) -> dict[str, tuple[Callable[[pb.AuditEvent], Any], str]]:
    second, last = scene.identity.made[1], scene.identity.made[-1]

    def resign(event: pb.AuditEvent) -> pb.AuditEvent:
        copy = altered(event)
        link(
            copy,
            sequence=event.sequence,
            prev_hash=bytes(event.prev_hash),
            key=scene.anonymity.key,
            key_id=scene.anonymity.key_id,
        )
        return copy

    def only(target: pb.AuditEvent, then: Callable[[pb.AuditEvent], Any]) -> Callable[..., Any]:
        return lambda e: then(e) if e.event_id == target.event_id else e

    return {
        "modified": (only(second, lambda e: altered(e, purpose="edited")), "MODIFIED"),
        "deleted": (only(second, lambda e: None), "GAP"),
        "truncated": (only(last, lambda e: None), "TRUNCATED"),
        "re-signed": (only(second, resign), "WRONG_PRODUCER_KEY"),
        "producer gone": (lambda e: None if e.producer == "identity" else e, "MISSING_PRODUCER"),
    }


@pytest.mark.parametrize(
    "tamper", ["modified", "deleted", "truncated", "re-signed", "producer gone"]
)
async def test_tampering_with_the_topic_is_named(scene: Scene, tamper: str) -> None:
    options = await options_for(scene.ledger, producers=scene.producers_file)
    assert (await run_verify(options, state_file=scene.state_file)).findings == []
    change, named = _tampers(scene)[tamper]
    await asyncio.to_thread(_edit_topic, scene.settings.data_dir, change)

    outcome = await run_verify(options, state_file=scene.state_file, from_topic=True)

    assert named in kinds(outcome), outcome.findings
