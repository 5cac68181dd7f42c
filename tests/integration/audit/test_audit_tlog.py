"""The ledger's transparency log (A2): checkpoints, proofs, persistence, and what enters it."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
from audit_harness import Ledger, Producer, rpc_error
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tamper_scene import Scene, restarted_ledger

from consilium.audit.v1 import audit_pb2 as pb
from plumbing.auth import Role
from plumbing.tlog import (
    ConsistencyProof,
    InclusionProof,
    NoteVerifier,
    leaf_hash,
    open_checkpoint,
)
from services.identity.app import Identity


async def checkpoint(ledger: Ledger, producer: str) -> pb.GetCheckpointResponse:
    return await ledger.stub.GetCheckpoint(
        pb.GetCheckpointRequest(producer=producer), metadata=await ledger.token(Role.AUDITOR)
    )


async def test_checkpoints_are_signed_notes_of_each_producers_log(scene: Scene) -> None:
    reply = await checkpoint(scene.ledger, "identity")
    vkey = (scene.settings.data_dir / "audit" / "checkpoint-key.vkey").read_text().strip()

    opened, _ = open_checkpoint(
        reply.checkpoint,
        origin="consilium.audit/identity",
        verifier=NoteVerifier.from_vkey(vkey),
    )

    assert reply.verifier_key == vkey
    assert (
        (opened.size, opened.root_hash)
        == (5, reply.root_hash)
        == (reply.tree_size, opened.root_hash)
    )
    with pytest.raises(ValueError):
        open_checkpoint(
            reply.checkpoint,
            origin="consilium.audit/anonymity",
            verifier=NoteVerifier.from_vkey(vkey),
        )


async def test_inclusion_proofs_lead_from_each_event_to_the_root(scene: Scene) -> None:
    metadata = await scene.ledger.token(Role.AUDITOR)
    newest = await checkpoint(scene.ledger, "identity")
    for event in scene.identity.made:
        reply = await scene.ledger.stub.GetInclusionProof(
            pb.GetInclusionProofRequest(event_id=event.event_id), metadata=metadata
        )
        proof = InclusionProof(reply.leaf_index, reply.tree_size, tuple(reply.hashes))
        proof.verify(leaf_hash(event.SerializeToString(deterministic=True)), newest.root_hash)
        assert reply.event == event
        assert reply.checkpoint == newest.checkpoint
    by_sequence = await scene.ledger.stub.GetInclusionProof(
        pb.GetInclusionProofRequest(producer="identity", sequence=2, tree_size=3),
        metadata=metadata,
    )
    assert (by_sequence.leaf_index, by_sequence.tree_size) == (1, 3)


async def test_consistency_proofs_join_an_old_checkpoint_to_the_new(scene: Scene) -> None:
    vkey = NoteVerifier.from_vkey((await checkpoint(scene.ledger, "identity")).verifier_key)
    old_reply = await checkpoint(scene.ledger, "identity")
    await scene.ledger.ingest(*(scene.identity.next() for _ in range(4)))
    new_reply = await checkpoint(scene.ledger, "identity")
    old, _ = open_checkpoint(old_reply.checkpoint, origin="consilium.audit/identity", verifier=vkey)
    new, _ = open_checkpoint(new_reply.checkpoint, origin="consilium.audit/identity", verifier=vkey)

    reply = await scene.ledger.stub.GetConsistencyProof(
        pb.GetConsistencyProofRequest(producer="identity", old_size=old.size),
        metadata=await scene.ledger.token(Role.AUDITOR),
    )

    assert (old.size, new.size) == (5, 9)
    ConsistencyProof(reply.old_size, reply.new_size, tuple(reply.hashes)).verify_between(old, new)


async def test_a_restart_rebuilds_the_log_from_its_leaves(
    scene: Scene, identity_server: Identity
) -> None:
    before = await checkpoint(scene.ledger, "identity")
    await scene.ledger.instance.server.stop()

    async with restarted_ledger(scene.settings, identity_server) as restarted:
        after = await checkpoint(restarted, "identity")
        await restarted.ingest(scene.identity.next())
        grown = await checkpoint(restarted, "identity")

    assert after.checkpoint == before.checkpoint  # the same note: nothing re-signed
    assert grown.tree_size == 6


async def test_an_event_that_does_not_verify_stops_the_log(scene: Scene) -> None:
    forger = Producer(
        "identity",
        Ed25519PrivateKey.generate(),
        scene.identity.key_id,
        sequence=scene.identity.sequence,
        last_hash=scene.identity.last_hash,
    )
    forged = forger.next()
    await scene.ledger.ingest(forged)

    reply = await checkpoint(scene.ledger, "identity")
    served = await scene.ledger.query(producer="identity")
    (report,) = [r for r in (await scene.ledger.verify()).reports if r.producer == "identity"]

    assert reply.tree_size == 5
    assert forged.event_id not in [e.event_id for e in served.events]  # served only verified
    assert report.log_size == 5
    assert pb.PROBLEM_KIND_BAD_SIGNATURE in [p.kind for p in report.problems]


async def test_checkpoints_are_signed_at_a_cadence(scene: Scene) -> None:
    await scene.ledger.ingest(scene.anonymity.next())
    tlog = scene.ledger.instance.tlog
    task = asyncio.create_task(tlog.run(0.01))
    try:
        async with asyncio.timeout(10):
            while await tlog.newest_size("anonymity") != 4:  # noqa: ASYNC110 - no event to await
                await asyncio.sleep(0.01)
    finally:
        task.cancel()


async def test_events_of_an_unconfigured_producer_are_reported(scene: Scene) -> None:
    stranger = scene.ledger.producer("content")
    await scene.ledger.ingest(stranger.next())

    reply = await scene.ledger.verify()

    (report,) = [r for r in reply.reports if r.producer == "content"]
    assert [p.kind for p in report.problems] == [
        pb.PROBLEM_KIND_UNKNOWN_PRODUCER,
        pb.PROBLEM_KIND_WRONG_PRODUCER_KEY,
    ]
    assert (await checkpoint(scene.ledger, "content")).tree_size == 0


async def test_without_pins_one_key_under_two_producers_is_reported(ledger: Ledger) -> None:
    identity = ledger.producer("identity")
    borrowed = Producer("anonymity", identity.key, identity.key_id)
    await ledger.ingest(identity.next(), borrowed.next())

    reply = await ledger.verify()

    assert not reply.ok
    for report in reply.reports:
        assert [p.kind for p in report.problems] == [pb.PROBLEM_KIND_WRONG_PRODUCER_KEY]


@pytest.mark.parametrize("role", [None, Role.MEMBER, Role.MODERATOR, Role.ADMIN])
async def test_only_auditors_read_the_log(scene: Scene, role: Role | None) -> None:
    metadata = await scene.ledger.token(role) if role else ()
    stub = scene.ledger.stub
    for call in (
        stub.GetCheckpoint(pb.GetCheckpointRequest(producer="identity"), metadata=metadata),
        stub.GetInclusionProof(
            pb.GetInclusionProofRequest(producer="identity", sequence=1), metadata=metadata
        ),
        stub.GetConsistencyProof(
            pb.GetConsistencyProofRequest(producer="identity", old_size=1), metadata=metadata
        ),
        stub.ListChainEvents(pb.ListChainEventsRequest(producer="identity"), metadata=metadata),
        stub.BatchGetInclusionProofs(
            pb.BatchGetInclusionProofsRequest(event_ids=["x"]), metadata=metadata
        ),
    ):
        error = await rpc_error(call)
        assert error.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


async def test_an_event_outside_the_log_has_no_proof(scene: Scene) -> None:
    error = await rpc_error(
        scene.ledger.stub.GetInclusionProof(
            pb.GetInclusionProofRequest(producer="identity", sequence=9),
            metadata=await scene.ledger.token(Role.AUDITOR),
        )
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert json.dumps(error.details())  # a sentence, no internals


async def test_batched_inclusion_proofs_serve_a_list_in_one_call(scene: Scene) -> None:
    metadata = await scene.ledger.token(Role.AUDITOR)
    forger = Producer(
        "anonymity",
        Ed25519PrivateKey.generate(),
        scene.anonymity.key_id,
        sequence=scene.anonymity.sequence,
        last_hash=scene.anonymity.last_hash,
    )
    unlogged = forger.next()  # its signature fails: it never enters the log
    await scene.ledger.ingest(unlogged)
    wanted = [
        scene.anonymity.made[2],
        scene.identity.made[0],
        unlogged,
        scene.identity.made[4],
    ]

    reply = await scene.ledger.stub.BatchGetInclusionProofs(
        pb.BatchGetInclusionProofsRequest(event_ids=[e.event_id for e in wanted] + ["nope"]),
        metadata=metadata,
    )

    vkey = NoteVerifier.from_vkey((await checkpoint(scene.ledger, "identity")).verifier_key)
    assert [p.event_id for p in reply.proofs] == [
        wanted[0].event_id,
        wanted[1].event_id,
        wanted[3].event_id,
    ]
    assert sorted(reply.checkpoints) == ["anonymity", "identity"]
    by_id = {e.event_id: e for e in wanted}
    for proof in reply.proofs:
        opened, _ = open_checkpoint(
            reply.checkpoints[proof.producer],
            origin=f"consilium.audit/{proof.producer}",
            verifier=vkey,
        )
        InclusionProof(proof.leaf_index, proof.tree_size, tuple(proof.hashes)).verify_in(
            opened, leaf_hash(by_id[proof.event_id].SerializeToString(deterministic=True))
        )
    too_many = await rpc_error(
        scene.ledger.stub.BatchGetInclusionProofs(
            pb.BatchGetInclusionProofsRequest(event_ids=["x"] * 201), metadata=metadata
        )
    )
    assert too_many.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_concurrent_readers_of_a_grown_log_get_one_checkpoint(scene: Scene) -> None:
    """A GraphQL query asking `auditCheckpoint` and `inclusionProof` at once makes the ledger
    sign the same new size twice at the same moment: both must get the one stored checkpoint,
    not an internal error (found by the README's auditor example)."""
    await scene.ledger.ingest(*(scene.identity.next() for _ in range(3)))
    metadata = await scene.ledger.token(Role.AUDITOR)
    ids = [e.event_id for e in scene.identity.made]

    replies = await asyncio.gather(
        *(checkpoint(scene.ledger, "identity") for _ in range(4)),
        *(
            scene.ledger.stub.BatchGetInclusionProofs(
                pb.BatchGetInclusionProofsRequest(event_ids=ids), metadata=metadata
            )
            for _ in range(4)
        ),
    )

    notes = {r.checkpoint for r in replies[:4]}
    assert len(notes) == 1 and replies[0].tree_size == 8
    assert all(len(r.proofs) == len(ids) for r in replies[4:])
