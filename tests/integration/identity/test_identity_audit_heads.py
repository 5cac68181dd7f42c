"""Identity as an audit producer: it signs its own chain head, serves it to auditors only
(GetAuditHead, the role checked on the live account), publishes it on the audit topic when it
moved, and rotates its audit key at start-up with a KEY_ROTATED event signed by the old key."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from audit_support import audit_events, rpc_error, trusted_keys
from identity_harness import IdentityClient, running
from pydantic import SecretStr
from sqlalchemy import text
from typer.testing import CliRunner

from cli.main import app
from consilium.audit.v1 import audit_pb2 as apb
from consilium.audit.v1 import audit_pb2_grpc
from consilium.events.v1 import audit_events_pb2 as auev
from consilium.identity.v1 import identity_pb2 as pb
from plumbing.auditchain import verify_chain
from plumbing.auditchain_row import AuditChainError
from plumbing.audithead import head_problem
from plumbing.auditkeys import private_pem
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS
from plumbing.signingkeys import SigningKey
from services.identity.domain.physician import Role
from services.identity.settings import IdentitySettings

HEAD_TYPE = auev.AuditHeadSigned.DESCRIPTOR.full_name


async def admin_read(identity: IdentityClient) -> None:
    """One audited access: an admin reads a member's profile (a READ_PROFILE event)."""
    _, admin = await identity.staff(Role.ADMIN)
    member, _ = await identity.member()
    await identity.stub.GetPhysician(pb.GetPhysicianRequest(user_id=member.user_id), metadata=admin)


def head_stub(identity: IdentityClient) -> audit_pb2_grpc.AuditHeadServiceStub:
    return audit_pb2_grpc.AuditHeadServiceStub(identity.channel)


async def published_heads(identity: IdentityClient) -> list[apb.SignedHead]:
    async with identity.instance.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT data FROM outbox WHERE topic = :t AND event_type = :h ORDER BY position"),
            {"t": AUDIT_IDENTITY_ACCESS, "h": HEAD_TYPE},
        )
        return [auev.AuditHeadSigned.FromString(bytes(row.data)).head for row in rows]


async def test_an_auditor_gets_the_signed_head_of_the_chain(identity: IdentityClient) -> None:
    await admin_read(identity)
    await admin_read(identity)
    _, auditor = await identity.staff(Role.AUDITOR)

    reply = await head_stub(identity).GetAuditHead(apb.GetAuditHeadRequest(), metadata=auditor)

    events = await audit_events(identity)
    head = reply.head
    assert (head.producer, head.size) == ("identity", len(events))
    assert bytes(head.head_hash) == bytes(events[-1].hash)
    assert head_problem(head, "identity", trusted_keys(identity.instance.settings.data_dir)) == ""


async def test_nobody_else_gets_it_and_a_demoted_auditor_at_once(identity: IdentityClient) -> None:
    _, member = await identity.member()
    _, moderator = await identity.staff(Role.MODERATOR)
    auditor_id, auditor = await identity.staff(Role.AUDITOR)
    stub = head_stub(identity)
    assert (await stub.GetAuditHead(apb.GetAuditHeadRequest(), metadata=auditor)).head.producer
    async with identity.instance.store.transaction() as repo:
        account = await repo.get(auditor_id)
        assert account is not None
        await repo.save(account.with_roles(frozenset({Role.MEMBER})))

    codes = [
        (await rpc_error(stub.GetAuditHead(apb.GetAuditHeadRequest(), metadata=m))).code()
        for m in ((), member, moderator, auditor)
    ]

    assert codes == [
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.PERMISSION_DENIED,  # the token still says AUDITOR; the account does not
    ]


async def test_the_head_is_published_when_it_moved_and_only_then(identity: IdentityClient) -> None:
    publisher = identity.instance.audit.publisher

    first = await publisher.publish()
    unchanged = await publisher.publish()
    await admin_read(identity)
    moved = await publisher.publish()

    heads = await published_heads(identity)
    assert (first, unchanged, moved) == (True, False, True)
    assert [h.size for h in heads] == [0, 1]
    assert bytes(heads[1].head_hash) == bytes((await audit_events_only(identity))[-1].hash)


async def test_the_running_publisher_follows_writes_without_being_asked(
    identity: IdentityClient,
) -> None:
    publisher = identity.instance.audit.publisher
    publisher.start()
    try:
        async with asyncio.timeout(30):  # every step bounded, the unary calls included
            while not await published_heads(identity):  # noqa: ASYNC110 - polls the outbox
                await asyncio.sleep(0.05)
            await admin_read(identity)  # the store's commit hook pokes the publisher
            while [h.size for h in await published_heads(identity)] != [0, 1]:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await publisher.stop()


async def audit_events_only(identity: IdentityClient) -> list[apb.AuditEvent]:
    async with identity.instance.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT data FROM outbox WHERE topic = :t AND event_type <> :h ORDER BY position"),
            {"t": AUDIT_IDENTITY_ACCESS, "h": HEAD_TYPE},
        )
        return [auev.IdentityAccessRecorded.FromString(bytes(r.data)).event for r in rows]


def with_key(
    settings: IdentitySettings, key: SigningKey, previous: SigningKey | None
) -> IdentitySettings:
    update: dict[str, object] = {"audit_signing_key": SecretStr(private_pem(key).decode())}
    if previous is not None:
        update["audit_previous_signing_key"] = SecretStr(private_pem(previous).decode())
    return settings.model_copy(update=update)


async def test_a_restart_with_the_previous_key_supplied_rotates_through_the_chain(
    identity_settings: IdentitySettings,
) -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    async with running(with_key(identity_settings, old, None)) as before:
        await admin_read(before)
        async with running(with_key(identity_settings, new, old)) as after:
            # A replica still on the old key now refuses to sign: nothing is answered.
            stale = await rpc_error(admin_read(before))
            await admin_read(after)
            events = await audit_events_only(after)
    async with running(with_key(identity_settings, new, old)) as restarted:
        again = await audit_events_only(restarted)  # a second start rotates nothing more

    assert stale.code() == grpc.StatusCode.UNAVAILABLE  # "not recorded, nothing disclosed"
    assert [e.action for e in events] == [
        apb.ACTION_READ_PROFILE,
        apb.ACTION_KEY_ROTATED,
        apb.ACTION_READ_PROFILE,
    ]
    assert [e.key_id for e in events] == [old.key_id, old.key_id, new.key_id]
    verdict = verify_chain(events, {old.key_id: old.public_key})  # only the old key pinned
    assert verdict.ok, verdict
    assert verdict.current_key == new.key_id
    assert len(again) == 3


async def test_a_restart_with_another_key_and_no_previous_one_refuses_to_start(
    identity_settings: IdentitySettings,
) -> None:
    async with running(with_key(identity_settings, SigningKey.generate(), None)) as first:
        await admin_read(first)

    with pytest.raises(AuditChainError, match="PREVIOUS_SIGNING_KEY"):
        async with running(with_key(identity_settings, SigningKey.generate(), None)):
            pass


async def test_the_dev_rotate_key_command_rotates_at_the_next_start(
    identity_settings: IdentitySettings,
) -> None:
    async with running(identity_settings) as before:
        await admin_read(before)
    env = {"CONSILIUM_DATA_DIR": str(identity_settings.data_dir), "CONSILIUM_ENV": "dev"}

    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["audit", "rotate-key", "--service", "identity"], env=env
    )
    async with running(identity_settings) as after:
        await admin_read(after)
        events = await audit_events_only(after)

    assert result.exit_code == 0, result.output
    assert [e.action for e in events] == [
        apb.ACTION_READ_PROFILE,
        apb.ACTION_KEY_ROTATED,
        apb.ACTION_READ_PROFILE,
    ]
    first = events[0].key_id
    old = trusted_keys(identity_settings.data_dir)[first]
    verdict = verify_chain(events, {first: old})
    assert verdict.ok, verdict
    assert verdict.current_key == events[2].key_id != first
