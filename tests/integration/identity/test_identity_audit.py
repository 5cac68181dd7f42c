"""Identity accesses are audited (A1, A2), on SQLite and PostgreSQL.

Someone else's profile read by an ADMIN and anonymity's persona resolution each emit an
`IdentityAccessRecorded` event per subject, chained and signed, in the transaction of the read;
refusals are recorded as DENIED (also under a reveal grant, whose granted read is anonymity's
REVEAL_ALIAS event); reading oneself is no identity access. If the event cannot be written,
the read fails UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import re

import grpc
import pytest
from audit_support import (
    assert_chain_verifies,
    audit_events,
    credentials_of,
    rpc_error,
    tag,
    traceparent,
)
from identity_harness import IdentityClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from consilium.audit.v1 import audit_pb2 as apb
from consilium.identity.v1 import identity_pb2 as pb
from plumbing.auth.service import RevealGrant, mint_reveal_grant
from plumbing.grpc.caller import REVEAL_GRANT_KEY
from services.identity.domain.access import PERSONA_FIELDS, PROFILE_FIELDS
from services.identity.domain.physician import Role, new_user_id


async def test_an_admin_read_emits_one_granted_event(identity: IdentityClient) -> None:
    admin_id, admin = await identity.staff(Role.ADMIN)
    member, _ = await identity.member()
    trace_id, header = traceparent()
    reply = await identity.stub.GetPhysician(
        pb.GetPhysicianRequest(user_id=member.user_id), metadata=(*admin, header)
    )
    assert reply.physician.user_id == member.user_id
    (event,) = await audit_events(identity)
    assert event.producer == "identity"
    assert event.actor_id == admin_id
    assert event.actor_role == apb.ACTOR_ROLE_ADMIN
    assert event.subject_id == tag(identity, member.user_id)
    assert event.subject_kind == apb.SUBJECT_KIND_USER_TAG
    assert member.user_id.encode() not in event.SerializeToString()
    assert event.action == apb.ACTION_READ_PROFILE
    assert list(event.fields) == list(PROFILE_FIELDS)
    assert event.purpose == "admin profile read"
    assert event.decision == apb.DECISION_GRANTED
    assert event.denial_reason == ""
    assert event.trace_id == trace_id
    assert re.fullmatch(r"[0-9a-f]{16}", event.span_id)
    assert event.event_id and event.occurred_at.seconds > 0
    assert_chain_verifies(identity, [event])


async def test_a_member_reading_someone_else_is_denied_and_recorded(
    identity: IdentityClient,
) -> None:
    other, _ = await identity.member()
    member, metadata = await identity.member()
    trace_id, header = traceparent()
    error = await rpc_error(
        identity.stub.GetPhysician(
            pb.GetPhysicianRequest(user_id=other.user_id), metadata=(*metadata, header)
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    (event,) = await audit_events(identity)
    assert event.decision == apb.DECISION_DENIED
    assert event.actor_id == member.user_id
    assert event.actor_role == apb.ACTOR_ROLE_MEMBER
    assert event.subject_id == tag(identity, other.user_id)
    assert list(event.fields) == []
    assert event.denial_reason.startswith("PERMISSION_DENIED")
    assert event.trace_id == trace_id
    assert_chain_verifies(identity, [event])


async def test_a_member_batch_reading_others_is_denied_per_subject(
    identity: IdentityClient,
) -> None:
    first, _ = await identity.member()
    second, _ = await identity.member()
    member, metadata = await identity.member()
    error = await rpc_error(
        identity.stub.BatchGetPhysicians(
            pb.BatchGetPhysiciansRequest(user_ids=[member.user_id, first.user_id, second.user_id]),
            metadata=metadata,
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    events = await audit_events(identity)
    assert [e.subject_id for e in events] == [
        tag(identity, u) for u in (first.user_id, second.user_id)
    ]
    assert {e.decision for e in events} == {apb.DECISION_DENIED}


async def test_reading_oneself_emits_nothing(identity: IdentityClient) -> None:
    member, metadata = await identity.member()
    await identity.stub.GetPhysician(
        pb.GetPhysicianRequest(user_id=member.user_id), metadata=metadata
    )
    await identity.stub.BatchGetPhysicians(
        pb.BatchGetPhysiciansRequest(user_ids=[member.user_id]), metadata=metadata
    )
    assert await audit_events(identity) == []


async def test_an_admin_batch_read_emits_one_event_per_other_subject(
    identity: IdentityClient,
) -> None:
    admin_id, admin = await identity.staff(Role.ADMIN)
    first, _ = await identity.member()
    second, _ = await identity.member()
    missing = new_user_id()
    reply = await identity.stub.BatchGetPhysicians(
        pb.BatchGetPhysiciansRequest(user_ids=[admin_id, first.user_id, second.user_id, missing]),
        metadata=admin,
    )
    assert {p.user_id for p in reply.physicians} == {admin_id, first.user_id, second.user_id}
    events = await audit_events(identity)
    # The admin's own profile is no identity access; a missing id was still asked for.
    assert [e.subject_id for e in events] == [
        tag(identity, u) for u in (first.user_id, second.user_id, missing)
    ]
    assert {e.decision for e in events} == {apb.DECISION_GRANTED}
    assert {e.actor_id for e in events} == {admin_id}
    assert len({e.event_id for e in events}) == 3
    assert_chain_verifies(identity, events)


async def test_a_read_under_a_reveal_grant_is_recorded_with_the_reveal(
    identity: IdentityClient,
) -> None:
    """The read is identity's own access, recorded with the reveal record the grant names."""
    moderator_id, moderator = await identity.staff(Role.MODERATOR)
    member, _ = await identity.member()
    grant = mint_reveal_grant(
        credentials_of(identity),
        RevealGrant(subject=member.user_id, actor=moderator_id, record="rec_0123abcd"),
    )
    reply = await identity.stub.GetPhysician(
        pb.GetPhysicianRequest(user_id=member.user_id),
        metadata=(*moderator, (REVEAL_GRANT_KEY, grant)),
    )
    assert reply.physician.user_id == member.user_id
    (event,) = await audit_events(identity)
    assert (event.actor_id, event.actor_role) == (moderator_id, apb.ACTOR_ROLE_MODERATOR)
    assert (event.subject_id, event.action) == (
        tag(identity, member.user_id),
        apb.ACTION_READ_PROFILE,
    )
    assert event.purpose == "reveal rec_0123abcd"
    assert event.decision == apb.DECISION_GRANTED


async def test_a_member_holding_a_reveal_grant_is_refused_and_recorded(
    identity: IdentityClient,
) -> None:
    member, metadata = await identity.member()
    subject, _ = await identity.member()
    grant = mint_reveal_grant(
        credentials_of(identity),
        RevealGrant(subject=subject.user_id, actor=member.user_id, record="rec_0123abcd"),
    )
    error = await rpc_error(
        identity.stub.GetPhysician(
            pb.GetPhysicianRequest(user_id=subject.user_id),
            metadata=(*metadata, (REVEAL_GRANT_KEY, grant)),
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    (event,) = await audit_events(identity)
    assert (event.actor_id, event.actor_role) == (member.user_id, apb.ACTOR_ROLE_MEMBER)
    assert event.purpose == "reveal rec_0123abcd"
    assert event.decision == apb.DECISION_DENIED


async def test_persona_attributes_emit_one_event_per_user(identity: IdentityClient) -> None:
    first, _ = await identity.member()
    second, _ = await identity.member()
    trace_id, header = traceparent()
    metadata = credentials_of(identity).metadata(service="anonymity", audience="identity")
    reply = await identity.stub.BatchGetPersonaAttributes(
        pb.BatchGetPersonaAttributesRequest(user_ids=[first.user_id, second.user_id]),
        metadata=(*metadata, header),
    )
    assert len(reply.attributes) == 2
    events = await audit_events(identity)
    assert [e.subject_id for e in events] == [
        tag(identity, u) for u in (first.user_id, second.user_id)
    ]
    for event in events:
        assert event.actor_id == "anonymity"
        assert event.actor_role == apb.ACTOR_ROLE_SERVICE
        assert event.action == apb.ACTION_READ_PROFILE
        assert list(event.fields) == list(PERSONA_FIELDS)
        assert event.decision == apb.DECISION_GRANTED
        assert event.trace_id == trace_id
    assert_chain_verifies(identity, events)


async def test_a_refused_persona_read_is_recorded(identity: IdentityClient) -> None:
    member, _ = await identity.member()
    request = pb.BatchGetPersonaAttributesRequest(user_ids=[member.user_id])
    content = credentials_of(identity, "content").metadata(audience="identity")
    error = await rpc_error(identity.stub.BatchGetPersonaAttributes(request, metadata=content))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    admin_id, admin = await identity.staff(Role.ADMIN)
    error = await rpc_error(identity.stub.BatchGetPersonaAttributes(request, metadata=admin))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    events = await audit_events(identity)
    assert [(e.actor_id, e.actor_role) for e in events] == [
        ("content", apb.ACTOR_ROLE_SERVICE),
        (admin_id, apb.ACTOR_ROLE_ADMIN),
    ]
    assert {e.decision for e in events} == {apb.DECISION_DENIED}
    assert {e.subject_id for e in events} == {tag(identity, member.user_id)}
    assert all(list(e.fields) == [] for e in events)
    assert_chain_verifies(identity, events)


async def test_concurrent_reads_keep_sequences_unique(identity: IdentityClient) -> None:
    _, admin = await identity.staff(Role.ADMIN)
    members = [(await identity.member())[0] for _ in range(4)]
    service = credentials_of(identity).metadata(service="anonymity", audience="identity")
    calls = [
        identity.stub.GetPhysician(pb.GetPhysicianRequest(user_id=m.user_id), metadata=admin)
        for m in members
    ] + [
        identity.stub.BatchGetPersonaAttributes(
            pb.BatchGetPersonaAttributesRequest(user_ids=[m.user_id for m in members]),
            metadata=service,
        )
        for _ in range(3)
    ]
    await asyncio.gather(*calls)
    events = await audit_events(identity)
    assert len(events) == 4 + 3 * 4
    assert_chain_verifies(identity, events)
    async with identity.instance.engine.connect() as conn:
        sequence = await conn.scalar(
            text("SELECT sequence FROM audit_chain WHERE producer = 'identity'")
        )
    assert sequence == len(events)


@pytest.mark.parametrize("breakage", ["DROP TABLE audit_chain", "DELETE FROM audit_chain"])
async def test_a_failing_audit_write_fails_the_read(
    identity: IdentityClient, breakage: str
) -> None:
    admin_id, admin = await identity.staff(Role.ADMIN)
    member, metadata = await identity.member()
    async with identity.instance.engine.begin() as conn:
        await conn.execute(text(breakage))
    for call in (
        identity.stub.GetPhysician(pb.GetPhysicianRequest(user_id=member.user_id), metadata=admin),
        identity.stub.BatchGetPhysicians(
            pb.BatchGetPhysiciansRequest(user_ids=[admin_id, member.user_id]), metadata=admin
        ),
        identity.stub.BatchGetPersonaAttributes(
            pb.BatchGetPersonaAttributesRequest(user_ids=[member.user_id]),
            metadata=credentials_of(identity).metadata(service="anonymity", audience="identity"),
        ),
        # A refusal that cannot be recorded fails closed too.
        identity.stub.GetPhysician(pb.GetPhysicianRequest(user_id=admin_id), metadata=metadata),
    ):
        error = await rpc_error(call)
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert member.email not in (error.details() or "")
    assert await audit_events(identity) == []
    # Reading oneself is no identity access: it needs no audit record.
    own = await identity.stub.GetPhysician(
        pb.GetPhysicianRequest(user_id=member.user_id), metadata=metadata
    )
    assert own.physician.user_id == member.user_id


async def test_the_public_key_is_published_for_the_ledger(identity: IdentityClient) -> None:
    data_dir = identity.instance.settings.data_dir
    key_file = data_dir / "identity" / "keys" / "audit-signing-key.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    _, admin = await identity.staff(Role.ADMIN)
    member, _ = await identity.member()
    await identity.stub.GetPhysician(pb.GetPhysicianRequest(user_id=member.user_id), metadata=admin)
    (event,) = await audit_events(identity)
    assert (data_dir / "audit" / "trusted-keys" / f"{event.key_id}.pem").exists()


async def test_a_reveal_grant_for_someone_else_is_refused_and_recorded(
    identity: IdentityClient,
) -> None:
    moderator_id, moderator = await identity.staff(Role.MODERATOR)
    granted, _ = await identity.member()
    other, _ = await identity.member()
    grant = mint_reveal_grant(
        credentials_of(identity),
        RevealGrant(subject=granted.user_id, actor=moderator_id, record="rec_0123abcd"),
    )
    error = await rpc_error(
        identity.stub.GetPhysician(
            pb.GetPhysicianRequest(user_id=other.user_id),
            metadata=(*moderator, (REVEAL_GRANT_KEY, grant)),
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    (event,) = await audit_events(identity)
    assert (event.actor_id, event.subject_id) == (moderator_id, tag(identity, other.user_id))
    assert event.actor_role == apb.ACTOR_ROLE_MODERATOR
    assert event.decision == apb.DECISION_DENIED
    assert list(event.fields) == []


async def test_erasure_shreds_the_person_link_and_the_chain_still_verifies(
    identity: IdentityClient,
) -> None:
    """The sealed link opens while the person exists; erasure deletes their key (P6)."""
    _, admin = await identity.staff(Role.ADMIN)
    member, _ = await identity.member()
    await identity.stub.GetPhysician(pb.GetPhysicianRequest(user_id=member.user_id), metadata=admin)
    (read,) = await audit_events(identity)
    subjects = identity.instance.store.audit_subjects
    async with identity.instance.engine.connect() as conn, AsyncSession(conn) as session:
        assert await subjects.open(session, read, member.user_id)
    await identity.stub.ErasePhysician(
        pb.ErasePhysicianRequest(user_id=member.user_id), metadata=admin
    )
    async with identity.instance.engine.connect() as conn:
        async with AsyncSession(conn) as session:
            assert not await subjects.open(session, read, member.user_id)
        keys = await conn.scalar(
            text("SELECT COUNT(*) FROM audit_subject_keys WHERE user_id = :u"),
            {"u": member.user_id},
        )
    assert keys == 0
    after, erasure = await audit_events(identity)
    assert after.SerializeToString() == read.SerializeToString()
    assert erasure.action == apb.ACTION_ERASE_PHYSICIAN
    assert_chain_verifies(identity, [after, erasure])
