"""Anonymity's audit events form one signed hash chain (A2), on SQLite and PostgreSQL.

Every identity-access event, granted or refused, takes the next sequence and links to the
one before in the transaction that records it; the ledger's verifier accepts the chain with
the public key anonymity published for it. Concurrent reveals still number gap-free, and a
record that could not be written uses no sequence.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import grpc
from anonymity_harness import Stack, anonymity_settings, rpc_error, running_anonymity
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.audit.v1 import audit_pb2 as apb
from consilium.events.v1 import audit_events_pb2 as auev
from plumbing.auditchain import GENESIS, verify_chain
from plumbing.auth import Role
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS
from services.anonymity.adapters.tables import identity_access_records
from services.identity.app import Identity


async def chain_events(stack: Stack) -> list[apb.AuditEvent]:
    """The audit events in the outbox, in the order they were queued."""
    events = await stack.outbox(AUDIT_IDENTITY_ACCESS)
    return [e.decode(auev.IdentityAccessRecorded).event for e in events]


def trusted_keys(data_dir: Path) -> dict[str, Ed25519PublicKey]:
    """What the dev ledger would load: every public key PEM anonymity published."""
    keys: dict[str, Ed25519PublicKey] = {}
    for path in (data_dir / "audit" / "trusted-keys").glob("*.pem"):
        public = serialization.load_pem_public_key(path.read_bytes())
        assert isinstance(public, Ed25519PublicKey)
        keys[path.stem] = public
    return keys


def assert_linked(events: list[apb.AuditEvent]) -> None:
    """Numbered 1..n in queue order, the first on the genesis, each on the one before."""
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert bytes(events[0].prev_hash) == GENESIS
    for previous, event in itertools.pairwise(events):
        assert bytes(event.prev_hash) == bytes(previous.hash)


async def chain_row(stack: Stack) -> tuple[int, bytes]:
    [row] = await stack.rows("audit_chain")
    assert row["producer"] == "anonymity"
    return int(row["sequence"]), bytes(row["last_hash"])


async def reveal(stack: Stack, alias: str, metadata: tuple[tuple[str, str], ...]) -> None:
    await stack.anonymity.RevealAlias(
        pb.RevealAliasRequest(alias_id=alias, purpose="harassment report"), metadata=metadata
    )


async def test_reveals_refusals_and_moderation_form_one_signed_chain(stack: Stack) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    other = (await stack.alias(doctor, pb.VISIBILITY_IDENTIFIED)).alias_id
    moderator = await stack.staff(Role.MODERATOR)
    admin = await stack.staff(Role.ADMIN)
    member = await stack.physician()

    await reveal(stack, alias, moderator.metadata)
    await reveal(stack, other, admin.metadata)
    refused = await rpc_error(
        stack.anonymity.RevealAlias(
            pb.RevealAliasRequest(alias_id=alias, purpose="curious"), metadata=member.metadata
        )
    )
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    await stack.anonymity.ActOnAlias(
        pb.ActOnAliasRequest(alias_id=alias, action=pb.ALIAS_ACTION_SUSPEND, reason="spam"),
        metadata=moderator.metadata,
    )
    await stack.anonymity.ListAliases(
        pb.ListAliasesRequest(user_id=doctor.user_id, purpose="subject access request"),
        metadata=admin.metadata,
    )
    await reveal(stack, other, moderator.metadata)

    events = await chain_events(stack)
    assert [e.action for e in events] == [
        apb.ACTION_REVEAL_ALIAS,
        apb.ACTION_REVEAL_ALIAS,
        apb.ACTION_REVEAL_ALIAS,
        apb.ACTION_SUSPEND_ALIAS,
        apb.ACTION_LIST_ALIASES,
        apb.ACTION_REVEAL_ALIAS,
    ]
    assert events[2].decision == apb.DECISION_DENIED, "a refusal is chained like a grant"
    assert_linked(events)
    keys = trusted_keys(stack.instance.settings.data_dir)
    assert len({e.key_id for e in events}) == 1, "signed with one key"
    assert {e.key_id for e in events} <= set(keys), "and that key is published"
    verdict = verify_chain(events, keys)
    assert verdict.ok, (verdict.gaps, verdict.problems)
    assert (verdict.event_count, verdict.last_sequence) == (6, 6)
    assert await chain_row(stack) == (6, bytes(events[-1].hash))

    # A tampered copy fails: the chain protects what the ledger receives.
    events[1].purpose = "routine check"
    assert [p.kind for p in verify_chain(events, keys).problems] == ["HASH_MISMATCH"]


async def test_concurrent_reveals_take_unique_gap_free_sequences(stack: Stack) -> None:
    doctor = await stack.physician()
    aliases = [
        (await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, await stack.scope(doctor))).alias_id
        for _ in range(3)
    ]
    moderator = await stack.staff(Role.MODERATOR)
    member = await stack.physician()
    calls = [reveal(stack, aliases[n % 3], moderator.metadata) for n in range(8)]
    refusals = [
        rpc_error(
            stack.anonymity.RevealAlias(
                pb.RevealAliasRequest(alias_id=aliases[0], purpose="curious"),
                metadata=member.metadata,
            )
        )
        for _ in range(2)
    ]
    results = await asyncio.gather(*calls, *refusals)
    assert all(r.code() == grpc.StatusCode.PERMISSION_DENIED for r in results[8:])

    events = await chain_events(stack)
    assert len(events) == 10 and len({e.event_id for e in events}) == 10
    # Queued under the chain lock, so outbox order is chain order.
    assert_linked(events)
    verdict = verify_chain(events, trusted_keys(stack.instance.settings.data_dir))
    assert verdict.ok and verdict.last_sequence == 10, (verdict.gaps, verdict.problems)
    assert await chain_row(stack) == (10, bytes(events[-1].hash))


async def test_a_record_that_fails_to_write_uses_no_sequence(stack: Stack) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    moderator = await stack.staff(Role.MODERATOR)
    await reveal(stack, alias, moderator.metadata)
    before = await chain_row(stack)

    async with stack.instance.engine.begin() as conn:
        await conn.execute(text("DROP TABLE identity_access_records"))
    for _ in range(2):
        error = await rpc_error(
            stack.anonymity.RevealAlias(
                pb.RevealAliasRequest(alias_id=alias, purpose="investigation"),
                metadata=moderator.metadata,
            )
        )
        assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert await chain_row(stack) == before, "the chain row rolled back with the record"
    assert [e.sequence for e in await chain_events(stack)] == [1]

    async with stack.instance.engine.begin() as conn:
        await conn.run_sync(identity_access_records.create)
    await reveal(stack, alias, moderator.metadata)
    events = await chain_events(stack)
    assert_linked(events)
    assert verify_chain(events, trusted_keys(stack.instance.settings.data_dir)).ok


async def test_the_chain_continues_across_restarts_with_the_same_dev_key(
    database_url: str, data_dir: Path, identity_server: Identity
) -> None:
    settings = anonymity_settings(database_url, data_dir, identity_server)
    async with running_anonymity(settings, identity_server) as stack:
        doctor = await stack.physician()
        alias = (await stack.alias(doctor)).alias_id
        moderator = await stack.staff(Role.MODERATOR)
        await reveal(stack, alias, moderator.metadata)
    async with running_anonymity(settings, identity_server) as stack:
        await reveal(stack, alias, moderator.metadata)
        events = await chain_events(stack)
    assert_linked(events)
    keys = trusted_keys(data_dir)
    assert len({e.key_id for e in events}) == 1, "the dev key was generated once and reused"
    assert {e.key_id for e in events} <= set(keys)
    assert (data_dir / "anonymity" / "keys" / "audit-signing-key.pem").exists()
    assert verify_chain(events, keys).ok
