"""Admin actions are audited (A1), fail-closed, and checked against live powers (issue 10, 1-3).

Verify, roles, suspend, reinstate and erase each emit exactly one chained, signed event when
granted and exactly one DENIED event when refused, in the transaction of the change. A
suspended or demoted admin's still-valid token is refused at once, and recorded.
"""

from __future__ import annotations

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
from plumbing.grpc.caller import bearer_metadata
from services.identity.domain.access import ERASED_FIELDS, PROFILE_FIELDS
from services.identity.domain.physician import Role

Metadata = tuple[tuple[str, str], ...]


async def only_event(identity: IdentityClient) -> apb.AuditEvent:
    events = await audit_events(identity)
    assert len(events) == 1, [apb.Action.Name(e.action) for e in events]
    return events[0]


async def test_verify_is_one_granted_event_naming_disclosed_and_changed_fields(
    identity: IdentityClient,
) -> None:
    admin_id, admin = await identity.staff(Role.ADMIN)
    member, _ = await identity.member()
    trace_id, header = traceparent()
    reply = await identity.stub.VerifyPhysician(
        pb.VerifyPhysicianRequest(user_id=member.user_id, approve=True), metadata=(*admin, header)
    )
    assert reply.physician.npi == member.npi  # the admin sees name and NPI: a disclosure
    event = await only_event(identity)
    assert (event.actor_id, event.actor_role) == (admin_id, apb.ACTOR_ROLE_ADMIN)
    assert event.subject_id == tag(identity, member.user_id)
    assert member.user_id.encode() not in event.SerializeToString()
    assert event.action == apb.ACTION_VERIFY_PHYSICIAN
    assert list(event.fields) == [*PROFILE_FIELDS, "verification: PENDING -> VERIFIED"]
    assert event.purpose == "admin verification decision"
    assert event.decision == apb.DECISION_GRANTED
    assert event.trace_id == trace_id
    assert_chain_verifies(identity, [event])


async def test_each_admin_change_is_one_event_with_its_action_and_change(
    identity: IdentityClient,
) -> None:
    admin_id, admin = await identity.staff(Role.ADMIN)
    member, _ = await identity.member()
    subject = member.user_id
    await identity.stub.SetRoles(
        pb.SetRolesRequest(user_id=subject, roles=[pb.ROLE_MODERATOR]), metadata=admin
    )
    await identity.stub.SuspendPhysician(
        pb.SuspendPhysicianRequest(user_id=subject, reason="spam in the lounge"), metadata=admin
    )
    await identity.stub.ReinstatePhysician(
        pb.ReinstatePhysicianRequest(user_id=subject), metadata=admin
    )
    events = await audit_events(identity)
    assert [e.action for e in events] == [
        apb.ACTION_SET_ROLES,
        apb.ACTION_SUSPEND_PHYSICIAN,
        apb.ACTION_REINSTATE_PHYSICIAN,
    ]
    assert [list(e.fields)[len(PROFILE_FIELDS) :] for e in events] == [
        ["roles: MEMBER -> MEMBER,MODERATOR"],
        ["verification: PENDING -> SUSPENDED"],
        ["verification: SUSPENDED -> PENDING"],
    ]
    assert [e.purpose for e in events] == [
        "admin role change",
        "spam in the lounge",
        "admin reinstatement",
    ]
    assert {(e.actor_id, e.subject_id, e.decision) for e in events} == {
        (admin_id, tag(identity, subject), apb.DECISION_GRANTED)
    }
    assert_chain_verifies(identity, events)


async def test_anonymity_suspending_for_a_moderator_is_recorded_as_the_service(
    identity: IdentityClient,
) -> None:
    member, _ = await identity.member()
    service = credentials_of(identity).metadata(service="anonymity", audience="identity")
    await identity.stub.SuspendPhysician(
        pb.SuspendPhysicianRequest(user_id=member.user_id, reason="moderator: abuse"),
        metadata=service,
    )
    event = await only_event(identity)
    assert (event.actor_id, event.actor_role) == ("anonymity", apb.ACTOR_ROLE_SERVICE)
    assert event.action == apb.ACTION_SUSPEND_PHYSICIAN
    assert event.purpose == "moderator: abuse"
    assert event.decision == apb.DECISION_GRANTED


async def test_another_service_suspending_is_denied_and_recorded(
    identity: IdentityClient,
) -> None:
    member, _ = await identity.member()
    content = credentials_of(identity, "content").metadata(audience="identity")
    error = await rpc_error(
        identity.stub.SuspendPhysician(
            pb.SuspendPhysicianRequest(user_id=member.user_id, reason="x"), metadata=content
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    event = await only_event(identity)
    assert (event.actor_id, event.decision) == ("content", apb.DECISION_DENIED)


@pytest.mark.parametrize(
    ("method", "make", "action"),
    [
        (
            "VerifyPhysician",
            lambda u: pb.VerifyPhysicianRequest(user_id=u, approve=True),
            apb.ACTION_VERIFY_PHYSICIAN,
        ),
        (
            "SetRoles",
            lambda u: pb.SetRolesRequest(user_id=u, roles=[pb.ROLE_ADMIN]),
            apb.ACTION_SET_ROLES,
        ),
        (
            "SuspendPhysician",
            lambda u: pb.SuspendPhysicianRequest(user_id=u, reason="x"),
            apb.ACTION_SUSPEND_PHYSICIAN,
        ),
        (
            "ReinstatePhysician",
            lambda u: pb.ReinstatePhysicianRequest(user_id=u),
            apb.ACTION_REINSTATE_PHYSICIAN,
        ),
        (
            "ErasePhysician",
            lambda u: pb.ErasePhysicianRequest(user_id=u),
            apb.ACTION_ERASE_PHYSICIAN,
        ),
    ],
)
async def test_a_member_calling_an_admin_rpc_is_denied_once_and_recorded(
    identity: IdentityClient, method: str, make: object, action: int
) -> None:
    target, _ = await identity.member()
    member, metadata = await identity.member()
    trace_id, header = traceparent()
    request = make(target.user_id)  # type: ignore[operator]
    error = await rpc_error(getattr(identity.stub, method)(request, metadata=(*metadata, header)))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    event = await only_event(identity)
    assert (event.actor_id, event.actor_role) == (member.user_id, apb.ACTOR_ROLE_MEMBER)
    assert event.subject_id == tag(identity, target.user_id)
    assert event.action == action
    assert event.decision == apb.DECISION_DENIED
    assert event.denial_reason.startswith("PERMISSION_DENIED") and "ADMIN" in event.denial_reason
    assert list(event.fields) == []
    assert event.trace_id == trace_id
    assert_chain_verifies(identity, [event])


async def demote(identity: IdentityClient, user_id: str) -> None:
    _, other_admin = await identity.staff(Role.ADMIN)
    await identity.stub.SetRoles(
        pb.SetRolesRequest(user_id=user_id, roles=[]), metadata=other_admin
    )


async def suspend(identity: IdentityClient, user_id: str) -> None:
    _, other_admin = await identity.staff(Role.ADMIN)
    await identity.stub.SuspendPhysician(
        pb.SuspendPhysicianRequest(user_id=user_id, reason="compromised"), metadata=other_admin
    )


@pytest.mark.parametrize("revoke", [demote, suspend], ids=["demoted", "suspended"])
async def test_a_revoked_admin_token_is_refused_at_once_and_recorded(
    identity: IdentityClient, revoke: object
) -> None:
    admin_id, stale = await identity.staff(Role.ADMIN)
    target, _ = await identity.member()
    await revoke(identity, admin_id)  # type: ignore[operator]
    before = len(await audit_events(identity))
    for call in (
        identity.stub.VerifyPhysician(
            pb.VerifyPhysicianRequest(user_id=target.user_id, approve=True), metadata=stale
        ),
        identity.stub.GetPhysician(pb.GetPhysicianRequest(user_id=target.user_id), metadata=stale),
        identity.stub.BatchGetPhysicians(
            pb.BatchGetPhysiciansRequest(user_ids=[target.user_id]), metadata=stale
        ),
        identity.stub.ErasePhysician(
            pb.ErasePhysicianRequest(user_id=target.user_id), metadata=stale
        ),
    ):
        error = await rpc_error(call)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    refusals = (await audit_events(identity))[before:]
    assert [e.decision for e in refusals] == [apb.DECISION_DENIED] * 4
    assert {e.actor_id for e in refusals} == {admin_id}
    # The role the token claimed is the one the actor tried to act in.
    assert {e.actor_role for e in refusals} == {apb.ACTOR_ROLE_ADMIN}
    assert all(e.denial_reason.startswith("PERMISSION_DENIED") for e in refusals)
    async with identity.instance.store.transaction() as repo:
        unchanged = await repo.get(target.user_id)
    assert unchanged is not None and not unchanged.erased
    assert unchanged.verification.value == "PENDING"


async def test_a_demoted_moderator_cannot_read_under_a_reveal_grant(
    identity: IdentityClient,
) -> None:
    from plumbing.auth.service import RevealGrant, mint_reveal_grant
    from plumbing.grpc.caller import REVEAL_GRANT_KEY

    moderator_id, moderator = await identity.staff(Role.MODERATOR)
    member, _ = await identity.member()
    await demote(identity, moderator_id)
    grant = mint_reveal_grant(
        credentials_of(identity),
        RevealGrant(subject=member.user_id, actor=moderator_id, record="rec_0123abcd"),
    )
    error = await rpc_error(
        identity.stub.GetPhysician(
            pb.GetPhysicianRequest(user_id=member.user_id),
            metadata=(*moderator, (REVEAL_GRANT_KEY, grant)),
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    last = (await audit_events(identity))[-1]
    assert (last.actor_id, last.decision) == (moderator_id, apb.DECISION_DENIED)


async def test_admin_erasure_is_recorded_and_the_event_outlives_the_link(
    identity: IdentityClient,
) -> None:
    admin_id, admin = await identity.staff(Role.ADMIN)
    member, _ = await identity.member()
    await identity.stub.ErasePhysician(
        pb.ErasePhysicianRequest(user_id=member.user_id), metadata=admin
    )
    event = await only_event(identity)
    assert (event.actor_id, event.action) == (admin_id, apb.ACTION_ERASE_PHYSICIAN)
    assert event.subject_id == tag(identity, member.user_id)
    assert list(event.fields) == list(ERASED_FIELDS)
    assert event.decision == apb.DECISION_GRANTED
    subjects = identity.instance.store.audit_subjects
    async with identity.instance.engine.connect() as conn, AsyncSession(conn) as session:
        assert not await subjects.open(session, event, member.user_id)
        keys = await conn.scalar(
            text("SELECT COUNT(*) FROM audit_subject_keys WHERE user_id = :u"),
            {"u": member.user_id},
        )
    assert keys == 0
    assert_chain_verifies(identity, [event])


async def test_self_erasure_is_recorded_without_naming_the_person(
    identity: IdentityClient,
) -> None:
    member, metadata = await identity.member()
    await identity.stub.ErasePhysician(
        pb.ErasePhysicianRequest(user_id=member.user_id), metadata=metadata
    )
    event = await only_event(identity)
    assert event.action == apb.ACTION_ERASE_PHYSICIAN
    assert event.actor_role == apb.ACTOR_ROLE_MEMBER
    # Actor and subject are one person: both the blind tag, nothing in clear survives.
    assert event.actor_id == event.subject_id == tag(identity, member.user_id)
    assert member.user_id.encode() not in event.SerializeToString()
    assert event.purpose == "erasure requested by the person"
    assert_chain_verifies(identity, [event])


@pytest.mark.parametrize("breakage", ["DROP TABLE audit_chain", "DELETE FROM audit_chain"])
async def test_no_record_no_change(identity: IdentityClient, breakage: str) -> None:
    _, admin = await identity.staff(Role.ADMIN)
    member, metadata = await identity.member()
    async with identity.instance.engine.begin() as conn:
        await conn.execute(text(breakage))
    for call in (
        identity.stub.VerifyPhysician(
            pb.VerifyPhysicianRequest(user_id=member.user_id, approve=True), metadata=admin
        ),
        identity.stub.SetRoles(
            pb.SetRolesRequest(user_id=member.user_id, roles=[pb.ROLE_ADMIN]), metadata=admin
        ),
        identity.stub.SuspendPhysician(
            pb.SuspendPhysicianRequest(user_id=member.user_id, reason="x"), metadata=admin
        ),
        identity.stub.ErasePhysician(
            pb.ErasePhysicianRequest(user_id=member.user_id), metadata=metadata
        ),
    ):
        error = await rpc_error(call)
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert member.npi not in (error.details() or "")
    async with identity.instance.store.transaction() as repo:
        unchanged = await repo.get(member.user_id)
    assert unchanged is not None and not unchanged.erased
    assert (unchanged.verification.value, unchanged.roles) == ("PENDING", frozenset({Role.MEMBER}))


async def test_a_suspended_account_signs_in_only_to_see_its_status_or_leave(
    identity: IdentityClient,
) -> None:
    admin_id, _ = await identity.staff(Role.ADMIN)
    email = f"{admin_id[4:16]}@staff.example.org"
    await suspend(identity, admin_id)
    token = await identity.login(email)
    claims = identity.instance.keys.verifier().verify(token)
    assert claims.verification.value == "SUSPENDED"
    assert claims.roles == frozenset({Role.MEMBER})  # no staff powers in a suspended token
    mine = bearer_metadata(token)
    own = await identity.stub.GetPhysician(pb.GetPhysicianRequest(user_id=admin_id), metadata=mine)
    assert own.physician.verification == pb.VERIFICATION_STATUS_SUSPENDED
    for call in (
        identity.stub.CountVerifiedBySpecialty(pb.CountVerifiedBySpecialtyRequest(), metadata=mine),
        identity.stub.BatchGetPhysicians(
            pb.BatchGetPhysiciansRequest(user_ids=[admin_id]), metadata=mine
        ),
    ):
        error = await rpc_error(call)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    # Its old staff powers are refused with a record, whatever token it holds.
    member, _ = await identity.member()
    before = len(await audit_events(identity))
    for call in (
        identity.stub.BatchGetPhysicians(
            pb.BatchGetPhysiciansRequest(user_ids=[admin_id, member.user_id]), metadata=mine
        ),
        identity.stub.VerifyPhysician(
            pb.VerifyPhysicianRequest(user_id=member.user_id, approve=True), metadata=mine
        ),
    ):
        error = await rpc_error(call)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    refusals = (await audit_events(identity))[before:]
    assert [(e.actor_id, e.decision) for e in refusals] == [(admin_id, apb.DECISION_DENIED)] * 2
    assert all("suspended" in e.denial_reason for e in refusals)
    await identity.stub.ErasePhysician(pb.ErasePhysicianRequest(user_id=admin_id), metadata=mine)
