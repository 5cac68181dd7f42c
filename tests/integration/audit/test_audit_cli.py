"""`consilium audit verify --from-topic` and `consilium audit trace`: the auditor's view of the
topic as producers published it, and of one request across services."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from audit_harness import Ledger, Producer, envelope
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession
from tamper_scene import Scene, kinds

from cli.audit import Options, run_trace, run_verify
from plumbing.auth import Role
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
