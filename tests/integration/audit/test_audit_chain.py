"""VerifyChain (A2): an intact chain is ok; tampering with the stored ledger is reported.

The tampering is done as an attacker with database access would: straight SQL on the
ledger's rows, past the service, which itself only ever inserts.
"""

from __future__ import annotations

import uuid

from audit_harness import Ledger, Producer, publish_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consilium.audit.v1 import audit_pb2 as pb


def kinds(report: pb.ChainReport) -> list[tuple[int, int]]:
    return [(p.sequence, p.kind) for p in report.problems]


async def chain_of(ledger: Ledger, length: int, name: str = "anonymity") -> Producer:
    producer = ledger.producer(name)
    await ledger.ingest(*(producer.next() for _ in range(length)))
    return producer


async def test_intact_chains_verify_per_producer(ledger: Ledger) -> None:
    await chain_of(ledger, 5, "identity")
    await chain_of(ledger, 3, "anonymity")

    reply = await ledger.verify()

    assert reply.ok
    assert [(r.producer, r.ok, r.event_count, r.last_sequence) for r in reply.reports] == [
        ("anonymity", True, 3, 3),
        ("identity", True, 5, 5),
    ]
    only = await ledger.verify("identity")
    assert [r.producer for r in only.reports] == ["identity"]


async def test_a_modified_event_is_a_hash_mismatch(ledger: Ledger) -> None:
    producer = await chain_of(ledger, 4)
    altered = pb.AuditEvent()
    altered.CopyFrom(producer.made[1])
    altered.purpose = "nothing to see here"
    await ledger.execute(
        "UPDATE audit_events SET data = :data WHERE event_id = :id",
        data=altered.SerializeToString(deterministic=True),
        id=altered.event_id,
    )

    reply = await ledger.verify("anonymity")

    assert not reply.ok
    (report,) = reply.reports
    assert kinds(report) == [(2, pb.PROBLEM_KIND_HASH_MISMATCH)]
    assert report.problems[0].event_id == altered.event_id
    assert list(report.gaps) == []


async def test_a_deleted_event_is_a_gap(ledger: Ledger) -> None:
    producer = await chain_of(ledger, 5)
    await ledger.execute(
        "DELETE FROM audit_events WHERE event_id IN (:a, :b)",
        a=producer.made[1].event_id,
        b=producer.made[2].event_id,
    )

    reply = await ledger.verify()

    assert not reply.ok
    (report,) = reply.reports
    assert [(g.first_missing, g.last_missing) for g in report.gaps] == [(2, 3)]
    assert report.event_count == 3
    assert report.last_sequence == 5


async def test_a_forged_event_has_a_bad_signature(ledger: Ledger) -> None:
    """Someone appends a well-linked event, signed with a key claiming the producer's id."""
    producer = await chain_of(ledger, 2)
    forger = Producer(
        producer.name,
        Ed25519PrivateKey.generate(),
        producer.key_id,
        sequence=producer.sequence,
        last_hash=producer.last_hash,
    )
    forged = forger.next(actor_id="usr_nobody")
    await ledger.ingest(forged)

    reply = await ledger.verify()

    (report,) = reply.reports
    assert not report.ok
    assert kinds(report) == [(3, pb.PROBLEM_KIND_BAD_SIGNATURE)]
    assert report.problems[0].event_id == forged.event_id


async def test_an_event_signed_by_an_untrusted_key_is_reported(ledger: Ledger) -> None:
    producer = await chain_of(ledger, 1)
    stranger = Producer(
        producer.name,
        Ed25519PrivateKey.generate(),
        "kid-nobody-published",
        sequence=producer.sequence,
        last_hash=producer.last_hash,
    )
    await ledger.ingest(stranger.next())

    (report,) = (await ledger.verify()).reports

    assert kinds(report) == [(2, pb.PROBLEM_KIND_UNKNOWN_KEY)]


async def test_a_key_switched_without_a_rotation_event_is_refused(ledger: Ledger) -> None:
    producer = await chain_of(ledger, 1)
    assert (await ledger.verify()).ok  # the directory has been read
    key = Ed25519PrivateKey.generate()
    # Even a key the ledger trusts (published in its directory) may not simply take over.
    switched = Producer(
        producer.name,
        key,
        publish_key(ledger.data_dir, key),
        sequence=producer.sequence,
        last_hash=producer.last_hash,
    )
    await ledger.ingest(switched.next())

    (report,) = (await ledger.verify()).reports

    assert kinds(report) == [(2, pb.PROBLEM_KIND_KEY_NOT_ROTATED)]


async def test_a_key_rotated_by_a_key_rotated_event_is_accepted(ledger: Ledger) -> None:
    producer = await chain_of(ledger, 1)
    # The new key is published nowhere: the rotation event signed by the old key vouches.
    await ledger.ingest(producer.rotate(Ed25519PrivateKey.generate()), producer.next())

    reply = await ledger.verify()
    page = await ledger.query()

    assert reply.ok, reply
    assert [e.sequence for e in page.events] == [1, 2, 3]  # served: they verify


async def test_a_rotation_signed_by_another_key_is_refused(ledger: Ledger) -> None:
    producer = await chain_of(ledger, 1)
    forger = Ed25519PrivateKey.generate()
    await ledger.ingest(
        producer.rotate(Ed25519PrivateKey.generate(), signer=forger), producer.next()
    )

    (report,) = (await ledger.verify()).reports
    page = await ledger.query()

    assert (2, pb.PROBLEM_KIND_BAD_ROTATION) in kinds(report)
    assert [e.sequence for e in page.events] == [1]  # the forged key's events are not served


async def test_a_second_event_claiming_a_taken_sequence_is_a_duplicate(ledger: Ledger) -> None:
    producer = await chain_of(ledger, 2)
    rival = Producer(producer.name, producer.key, producer.key_id)
    rival.next()  # sequence 1, not sent
    rival.last_hash = producer.made[0].hash
    claim = rival.next(event_id=uuid.uuid4().hex, purpose="a different story")
    await ledger.ingest(claim)

    (report,) = (await ledger.verify()).reports

    assert not report.ok
    assert (2, pb.PROBLEM_KIND_DUPLICATE_SEQUENCE) in kinds(report)
    # The ledger's own view is unchanged: queries show the first claim only.
    assert [e.sequence for e in (await ledger.query()).events] == [1, 2]
