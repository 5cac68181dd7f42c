"""The tamper matrix (A2): each attack on the ledger's database is caught by
`consilium audit verify`, which exits non-zero and names it.

The attacker has write access to the ledger's database and edits it with raw SQL, past the
service. The auditor has an auditor's token, the producers' pinned public keys and the ledger's
checkpoint key, and keeps checkpoints between runs (`--state`).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import grpc
from audit_harness import Producer, rpc_error
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr
from sqlalchemy import insert
from tamper_scene import Scene, altered, kinds, restarted_ledger
from typer.testing import CliRunner

from cli.main import app
from consilium.audit.v1 import audit_pb2 as pb
from plumbing.auditchain import GENESIS, link
from plumbing.auth import Role
from services.audit.adapters.converters import row_from_event
from services.audit.adapters.tables import audit_events
from services.identity.app import Identity


async def test_an_intact_ledger_verifies_and_the_state_is_kept(scene: Scene) -> None:
    outcome = await scene.verify()

    assert outcome.findings == []
    kept = json.loads(scene.state_file.read_text())
    # The ledger's own chain too: the verification's queries are its events.
    assert set(kept["checkpoints"]) == {"identity", "anonymity", "audit"}
    assert kept["checkpoints"]["identity"].startswith("consilium.audit/identity\n5\n")
    # Again, now demanding consistency with the kept checkpoints.
    await scene.ledger.ingest(scene.identity.next())
    assert (await scene.verify()).findings == []


async def test_a_modified_field_is_named(scene: Scene) -> None:
    await scene.replace(altered(scene.identity.made[1], purpose="nothing to see"))

    outcome = await scene.verify()

    assert {"MODIFIED", "LOG_MISMATCH"} <= kinds(outcome)
    assert kinds(outcome, "anonymity") == set()


async def test_an_edited_indexed_column_neither_forges_a_view_nor_passes(scene: Scene) -> None:
    target = scene.identity.made[1]
    await scene.ledger.execute(
        "UPDATE audit_events SET actor_id = 'usr_scapegoat' WHERE event_id = :id",
        id=target.event_id,
    )

    forged_view = await scene.ledger.query(actor_id="usr_scapegoat")
    outcome = await scene.verify()

    assert list(forged_view.events) == []
    assert "INDEX_MISMATCH" in kinds(outcome)
    assert any(f"event {target.sequence}" in f.detail for f in outcome.findings)


async def test_a_deleted_middle_event_is_a_gap(scene: Scene) -> None:
    await scene.ledger.execute(
        "DELETE FROM audit_events WHERE event_id = :id", id=scene.identity.made[2].event_id
    )

    outcome = await scene.verify()

    assert "GAP" in kinds(outcome)
    assert any(f.kind == "GAP" and "events 3 " in f.detail for f in outcome.findings)


async def test_a_truncated_tail_is_caught_against_the_kept_checkpoint(scene: Scene) -> None:
    assert (await scene.verify()).findings == []  # the auditor keeps checkpoint 5
    await scene.ledger.execute(
        "DELETE FROM audit_events WHERE producer = 'identity' AND sequence >= 4"
    )
    await scene.ledger.execute(
        "DELETE FROM audit_tlog_leaves WHERE producer = 'identity' AND leaf_index >= 3"
    )
    await scene.ledger.execute(
        "DELETE FROM audit_tlog_checkpoints WHERE producer = 'identity' AND tree_size > 3"
    )

    outcome = await scene.verify()

    assert "TRUNCATED" in kinds(outcome)


async def test_two_swapped_events_are_reordered(scene: Scene) -> None:
    second, third = scene.identity.made[1], scene.identity.made[2]
    await scene.replace(third, at=2)
    await scene.replace(second, at=3)

    outcome = await scene.verify()

    assert {"REORDERED", "INDEX_MISMATCH"} <= kinds(outcome)


async def test_an_inserted_forged_event_is_named(scene: Scene) -> None:
    forger = Producer(
        "identity",
        Ed25519PrivateKey.generate(),
        scene.identity.key_id,  # claims the producer's key
        sequence=scene.identity.sequence,
        last_hash=scene.identity.last_hash,
    )
    forged = forger.next(actor_id="usr_nobody")
    async with scene.ledger.instance.engine.begin() as conn:
        await conn.execute(
            insert(audit_events).values(
                **row_from_event(forged),
                data=forged.SerializeToString(deterministic=True),
                recorded_at=datetime.now(UTC),
            )
        )

    outcome = await scene.verify()

    assert "FORGED" in kinds(outcome)
    assert any(forged.event_id in f.detail for f in outcome.findings)


async def test_a_chain_re_signed_with_another_producers_key_is_named(scene: Scene) -> None:
    # Anonymity's key (a compromised producer) rewrites identity's whole chain, well linked.
    prev = GENESIS
    for original in scene.identity.made:
        event = altered(original)
        prev = link(
            event,
            sequence=original.sequence,
            prev_hash=prev,
            key=scene.anonymity.key,
            key_id=scene.anonymity.key_id,
        )
        await scene.replace(event)

    outcome = await scene.verify()

    assert {"WRONG_PRODUCER_KEY", "LOG_MISMATCH"} <= kinds(outcome)
    assert any("pinned to 'anonymity'" in f.detail for f in outcome.findings)


async def test_a_deleted_producer_chain_is_a_missing_producer(scene: Scene) -> None:
    await scene.ledger.execute("DELETE FROM audit_events WHERE producer = 'identity'")
    await scene.ledger.execute("DELETE FROM audit_tlog_leaves WHERE producer = 'identity'")
    await scene.ledger.execute("DELETE FROM audit_tlog_checkpoints WHERE producer = 'identity'")

    outcome = await scene.verify(state=False)

    assert "MISSING_PRODUCER" in kinds(outcome)
    reply = await scene.ledger.verify()
    (report,) = [r for r in reply.reports if r.producer == "identity"]
    assert pb.PROBLEM_KIND_MISSING_PRODUCER in [p.kind for p in report.problems]


async def test_a_ledger_rolled_back_to_an_older_checkpoint_fails(
    scene: Scene, identity_server: Identity
) -> None:
    first = await scene.ledger.stub.GetCheckpoint(
        pb.GetCheckpointRequest(producer="identity"),
        metadata=await scene.ledger.token(Role.AUDITOR),
    )
    assert first.tree_size == 5
    await scene.ledger.ingest(scene.identity.next(), scene.identity.next())
    assert (await scene.verify()).findings == []  # the auditor keeps checkpoint 7
    # The attacker restores the ledger as it was at checkpoint 5, and restarts it.
    for statement in (
        "DELETE FROM audit_events WHERE producer = 'identity' AND sequence > 5",
        "DELETE FROM audit_tlog_leaves WHERE producer = 'identity' AND leaf_index >= 5",
        "DELETE FROM audit_tlog_checkpoints WHERE producer = 'identity' AND tree_size > 5",
    ):
        await scene.ledger.execute(statement)
    await scene.ledger.instance.server.stop()

    async with restarted_ledger(scene.settings, identity_server) as restored:
        scene.ledger = restored
        outcome = await scene.verify()

    assert "ROLLED_BACK" in kinds(outcome)
    # A second run still fails: the state is not moved back to the rolled-back checkpoint.
    assert json.loads(scene.state_file.read_text())["checkpoints"]["identity"].startswith(
        "consilium.audit/identity\n7\n"
    )


async def test_the_command_exits_non_zero_and_names_the_fault(scene: Scene) -> None:
    await scene.replace(altered(scene.identity.made[0], purpose="edited"))
    token = dict(await scene.ledger.token(Role.AUDITOR))["authorization"].split()[1]
    args = [
        "audit",
        "verify",
        "--token",
        token,
        "--audit-address",
        f"127.0.0.1:{scene.ledger.instance.server.port}",
        "--producers",
        str(scene.producers_file),
    ]

    result = await asyncio.to_thread(
        CliRunner().invoke, app, args, env={"CONSILIUM_DATA_DIR": str(scene.settings.data_dir)}
    )

    assert result.exit_code == 1, result.output
    assert "FAIL identity: MODIFIED" in result.output


async def test_a_ledger_signing_with_another_key_fails_against_the_kept_one(
    scene: Scene, identity_server: Identity
) -> None:
    assert (await scene.verify()).findings == []  # the auditor keeps the ledger's key too
    impostor = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    await scene.ledger.instance.server.stop()
    # Its dev verifier-key file is rewritten too: only what the auditor kept tells.
    settings = scene.settings.model_copy(update={"checkpoint_key": SecretStr(impostor.decode())})
    (scene.settings.data_dir / "audit" / "checkpoint-key.vkey").unlink()
    async with restarted_ledger(settings, identity_server) as restored:
        await restored.ingest(scene.identity.next())  # so a new checkpoint must be signed
        scene.ledger = restored
        outcome = await scene.verify()

    assert "BAD_CHECKPOINT" in kinds(outcome)
    assert any("no signature by a known key" in f.detail for f in outcome.findings)


async def test_a_producer_name_that_cannot_be_an_origin_is_refused(scene: Scene) -> None:
    error = await rpc_error(
        scene.ledger.stub.GetCheckpoint(
            pb.GetCheckpointRequest(producer="identity\nforged"),
            metadata=await scene.ledger.token(Role.AUDITOR),
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
