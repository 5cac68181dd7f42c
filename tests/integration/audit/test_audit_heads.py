"""The tamper matrix, continued: what only the producers' signed heads reveal.

An attacker with write access to the ledger's database cuts a chain's tail or restores an older
state together with the ledger's own transparency log, so the ledger is consistent with itself
and an auditor without kept checkpoints sees nothing wrong. The producers' heads, signed with
keys the ledger never holds and fetched from the producers or read from the topic, catch it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import grpc
from audit_harness import Producer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from head_scene import (
    auditor_token,
    head_servers,
    publish_heads,
    rpc_code,
    verify_with_heads,
)
from tamper_scene import Scene, kinds, restarted_ledger

from consilium.audit.v1 import audit_pb2 as pb
from consilium.audit.v1 import audit_pb2_grpc
from plumbing.grpc.caller import bearer_metadata
from services.identity.app import Identity

CUT_TAIL = (
    "DELETE FROM audit_events WHERE producer = 'identity' AND sequence > 3",
    "DELETE FROM audit_tlog_leaves WHERE producer = 'identity' AND leaf_index >= 3",
    "DELETE FROM audit_tlog_checkpoints WHERE producer = 'identity' AND tree_size > 3",
)


@asynccontextmanager
async def tampered(
    scene: Scene, identity: Identity, statements: Sequence[str] = CUT_TAIL
) -> AsyncIterator[Scene]:
    """The ledger's database edited, then the ledger restarted on it (nothing kept in memory)."""
    for statement in statements:
        await scene.ledger.execute(statement)
    await scene.ledger.instance.server.stop()
    async with restarted_ledger(scene.settings, identity) as restored:
        scene.ledger = restored
        yield scene


def details(outcome: object, kind: str) -> list[str]:
    return [f.detail for f in outcome.findings if f.kind == kind]  # type: ignore[attr-defined]


async def test_an_intact_ledger_agrees_with_every_producers_head(scene: Scene) -> None:
    async with head_servers([scene.identity, scene.anonymity], await auditor_token(scene)) as at:
        outcome = await verify_with_heads(scene, "producers", at)
    await publish_heads(scene)
    from_topic = await verify_with_heads(scene, "topic")

    assert outcome.findings == []
    assert from_topic.findings == []


async def test_a_tail_cut_with_its_log_is_caught_by_the_producers_head(
    scene: Scene, identity_server: Identity
) -> None:
    async with tampered(scene, identity_server):
        # Consistent with itself: without kept state or heads, nothing shows.
        assert (await verify_with_heads(scene, "none")).findings == []
        token = await auditor_token(scene)
        async with head_servers([scene.identity, scene.anonymity], token) as at:
            outcome = await verify_with_heads(scene, "producers", at)

    assert {"TRUNCATED", "ROLLED_BACK"} <= kinds(outcome)
    assert any("says 5 events; only 3 are served" in d for d in details(outcome, "TRUNCATED"))
    assert kinds(outcome, "anonymity") == set()


async def test_a_tail_cut_with_its_log_is_caught_by_the_head_on_the_topic(
    scene: Scene, identity_server: Identity
) -> None:
    await publish_heads(scene)
    async with tampered(scene, identity_server):
        outcome = await verify_with_heads(scene, "topic")

    assert {"TRUNCATED", "ROLLED_BACK"} <= kinds(outcome)
    assert any("from the topic" in d for d in details(outcome, "TRUNCATED"))


async def test_a_ledger_rolled_back_to_an_older_checkpoint_is_caught_by_heads(
    scene: Scene, identity_server: Identity
) -> None:
    await scene.ledger.ingest(scene.identity.next(), scene.identity.next())
    await scene.ledger.instance.tlog.checkpoint_all()  # the ledger signed checkpoint 7
    await publish_heads(scene)
    # Restored as it was at checkpoint 5, and restarted: its history is its own again.
    rollback = [statement.replace("> 3", "> 5").replace(">= 3", ">= 5") for statement in CUT_TAIL]
    async with tampered(scene, identity_server, rollback):
        assert (await verify_with_heads(scene, "none")).findings == []
        token = await auditor_token(scene)
        async with head_servers([scene.identity, scene.anonymity], token) as at:
            via_producers = await verify_with_heads(scene, "producers", at)
        via_topic = await verify_with_heads(scene, "topic")

    for outcome in (via_producers, via_topic):
        assert "ROLLED_BACK" in kinds(outcome)
        assert any("holds 5 events" in d and "says 7" in d for d in details(outcome, "ROLLED_BACK"))


async def test_a_producer_without_a_head_is_a_finding(scene: Scene) -> None:
    async with head_servers([scene.anonymity], await auditor_token(scene)) as at:
        unreachable = await verify_with_heads(scene, "producers", [*at, "identity=127.0.0.1:9"])
    silent = await verify_with_heads(scene, "topic")

    assert kinds(unreachable) == {"MISSING_HEAD"}
    assert kinds(unreachable, "anonymity") == set()
    assert kinds(silent) == {"MISSING_HEAD"} and kinds(silent, "anonymity") == {"MISSING_HEAD"}


async def test_a_head_signed_by_another_key_is_refused(scene: Scene) -> None:
    impostor = Producer(
        "identity",
        Ed25519PrivateKey.generate(),
        scene.identity.key_id,
        sequence=9,
        last_hash=bytes(32),
    )
    async with head_servers([impostor, scene.anonymity], await auditor_token(scene)) as at:
        outcome = await verify_with_heads(scene, "producers", at)

    assert kinds(outcome) == {"BAD_HEAD"}


async def test_only_an_auditor_reads_a_producers_head(scene: Scene) -> None:
    async with head_servers([scene.identity], await auditor_token(scene)) as at:
        address = at[0].split("=")[1]
        async with grpc.aio.insecure_channel(address) as channel:
            stub = audit_pb2_grpc.AuditHeadServiceStub(channel)
            anonymous = await rpc_code(stub.GetAuditHead(pb.GetAuditHeadRequest()))
            stranger = await rpc_code(
                stub.GetAuditHead(pb.GetAuditHeadRequest(), metadata=bearer_metadata("x.y.z"))
            )

    assert anonymous == grpc.StatusCode.PERMISSION_DENIED
    assert stranger == grpc.StatusCode.PERMISSION_DENIED


async def test_a_ledger_serving_another_history_than_the_producer_signed_is_named(
    scene: Scene,
) -> None:
    # The producer's own chain ends in an event 5 other than the one the ledger serves.
    forked = Producer(
        "identity",
        scene.identity.key,
        scene.identity.key_id,
        sequence=scene.identity.sequence,
        last_hash=bytes(range(32)),
    )
    async with head_servers([forked, scene.anonymity], await auditor_token(scene)) as at:
        outcome = await verify_with_heads(scene, "producers", at)

    assert kinds(outcome) == {"HEAD_MISMATCH"}
    assert any("event 5" in d for d in details(outcome, "HEAD_MISMATCH"))
