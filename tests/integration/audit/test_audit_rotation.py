"""Key rotation in the tamper matrix: a producer's key changes only by a KEY_ROTATED event signed
with the old key. The auditor pins only the first key; the ledger, `consilium audit verify` (from
the ledger and from the topic), its head checks and the standalone export verifier accept the
new key from that event alone, and name a forged rotation or a key switched without one."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from head_scene import auditor_token, head_servers, verify_with_heads
from tamper_scene import Scene, altered, kinds, pem, restarted_ledger
from test_audit_export import export, standalone

from cli.audit import Options, run_verify
from cli.audit.verify import Outcome
from plumbing.auditchain import link
from plumbing.auth.jwk import key_id
from services.identity.app import Identity


async def verify(
    scene: Scene, *, from_topic: bool = False, producers: Path | None = None
) -> Outcome:
    options = Options(
        await auditor_token(scene),
        f"127.0.0.1:{scene.ledger.instance.server.port}",
        producers=producers or scene.producers_file,
        data_dir=scene.settings.data_dir,
    )
    return await run_verify(options, from_topic=from_topic)


async def test_a_rotation_signed_by_the_old_key_is_accepted_everywhere(
    scene: Scene, tmp_path: Path
) -> None:
    await scene.ledger.ingest(
        scene.identity.rotate(Ed25519PrivateKey.generate()), scene.identity.next()
    )
    await scene.ledger.instance.tlog.checkpoint_all()

    from_ledger = await verify(scene)
    from_topic = await verify(scene, from_topic=True)
    async with head_servers([scene.identity, scene.anonymity], await auditor_token(scene)) as at:
        with_heads = await verify_with_heads(scene, "producers", at)  # signed with the new key
    out = tmp_path / "audit.jsonl"
    result = standalone(out, scene.producers_file, await export(scene, out))

    assert from_ledger.findings == []
    assert from_topic.findings == []
    assert with_heads.findings == []
    assert result.returncode == 0, result.stdout + result.stderr
    assert "identity: 7 events verified" in result.stdout


async def test_a_rotation_signed_by_another_key_is_named(scene: Scene) -> None:
    forger = Ed25519PrivateKey.generate()
    await scene.ledger.ingest(
        scene.identity.rotate(Ed25519PrivateKey.generate(), signer=forger), scene.identity.next()
    )

    for outcome in (await verify(scene), await verify(scene, from_topic=True)):
        assert "BAD_ROTATION" in kinds(outcome)
        assert kinds(outcome, "anonymity") == set()
    reply = await scene.ledger.verify("identity")
    assert "PROBLEM_KIND_BAD_ROTATION" in str(reply)


async def test_a_key_switched_without_rotation_is_named_though_both_are_pinned(
    scene: Scene, tmp_path: Path
) -> None:
    successor = Ed25519PrivateKey.generate()
    pins = json.loads(scene.producers_file.read_text())
    pins["identity"].append(pem(successor))
    both = tmp_path / "both-pinned.json"
    both.write_text(json.dumps(pins))
    switched = scene.identity
    switched.key, switched.key_id = successor, key_id(successor.public_key())
    await scene.ledger.ingest(switched.next())

    for outcome in (
        await verify(scene, producers=both),
        await verify(scene, producers=both, from_topic=True),
    ):
        assert "KEY_NOT_ROTATED" in kinds(outcome)
        assert any("event 6" in f.detail for f in outcome.findings if f.kind == "KEY_NOT_ROTATED")


async def test_the_standalone_verifier_rejects_a_rotation_re_signed_by_another_key(
    scene: Scene, tmp_path: Path
) -> None:
    rotation = scene.identity.rotate(Ed25519PrivateKey.generate())
    await scene.ledger.ingest(rotation, scene.identity.next())
    await scene.ledger.instance.tlog.checkpoint_all()
    out = tmp_path / "audit.jsonl"
    vkey = await export(scene, out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    # Same place, same content, same hash: only the signature (and the key it names) differ.
    attacker = Ed25519PrivateKey.generate()
    forged = altered(rotation)
    link(
        forged,
        sequence=rotation.sequence,
        prev_hash=bytes(rotation.prev_hash),
        key=attacker,
        key_id=key_id(attacker.public_key()),
    )
    for line in lines:
        if line["type"] == "event" and line["producer"] == "identity" and line["sequence"] == 6:
            line["bytes"] = base64.b64encode(forged.SerializeToString(deterministic=True)).decode()
            line["fields"]["signature"] = base64.b64encode(forged.signature).decode()
            line["fields"]["key_id"] = forged.key_id
    out.write_text("".join(json.dumps(x) + "\n" for x in lines))

    result = standalone(out, scene.producers_file, vkey)

    assert result.returncode == 1, result.stdout
    assert "KEY_ROTATED event 6 is signed with key" in result.stdout


async def test_the_ledgers_log_keeps_following_a_rotated_key_after_a_restart(
    scene: Scene, identity_server: Identity
) -> None:
    await scene.ledger.ingest(scene.identity.rotate(Ed25519PrivateKey.generate()))
    assert (await scene.ledger.instance.tlog.checkpoint("identity")).checkpoint.size == 6
    await scene.ledger.instance.server.stop()

    async with restarted_ledger(scene.settings, identity_server) as restored:
        scene.ledger = restored
        await restored.ingest(scene.identity.next())
        logged = await restored.instance.tlog.checkpoint("identity")
        outcome = await verify(scene)

    assert logged.checkpoint.size == 7
    assert outcome.findings == []
