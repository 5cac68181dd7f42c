"""Identity-access records become audit events in the same transaction; moderation's events.

A reveal's `IdentityAccessRecorded` sits in the outbox exactly when its record does (fail
closed: no record, no event, nothing revealed), carries the caller's trace (A3), and a
moderator's suspension is announced for the acted alias at once, then for the rest of the
person's aliases when identity's PhysicianSuspended comes back.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import grpc
from anonymity_harness import Stack, anonymity_settings, rpc_error, running_anonymity
from sqlalchemy import text

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.audit.v1 import audit_pb2 as apb
from consilium.events.v1 import anonymity_events_pb2 as aev
from consilium.events.v1 import audit_events_pb2 as auev
from plumbing.auth import Role
from plumbing.errors import Unavailable
from plumbing.events.topics import ANONYMITY_ALIASES, AUDIT_IDENTITY_ACCESS
from services.identity.app import Identity


async def audit_events(stack: Stack) -> list[apb.AuditEvent]:
    events = await stack.outbox(AUDIT_IDENTITY_ACCESS)
    assert all(e.key == "anonymity" for e in events), "keyed by producer: one chain"
    return [e.decode(auev.IdentityAccessRecorded).event for e in events]


def traceparent() -> tuple[str, str, tuple[str, str]]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, ("traceparent", f"00-{trace_id}-{span_id}-01")


async def test_reveal_emits_one_granted_audit_event_with_the_callers_trace(stack: Stack) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    moderator = await stack.staff(Role.MODERATOR)
    trace_id, _, header = traceparent()
    reply = await stack.anonymity.RevealAlias(
        pb.RevealAliasRequest(alias_id=alias, purpose="harassment report 88"),
        metadata=(*moderator.metadata, header),
    )
    [event] = await audit_events(stack)
    assert event.event_id == reply.audit_event_id
    assert event.producer == "anonymity"
    assert event.actor_id == moderator.user_id
    assert event.actor_role == apb.ACTOR_ROLE_MODERATOR
    assert (event.subject_id, event.subject_kind) == (alias, apb.SUBJECT_KIND_ALIAS)
    assert event.action == apb.ACTION_REVEAL_ALIAS
    assert list(event.fields) == ["user_id"]
    assert event.purpose == "harassment report 88"
    assert event.decision == apb.DECISION_GRANTED and event.denial_reason == ""
    assert event.trace_id == trace_id
    assert len(event.span_id) == 16 and int(event.span_id, 16)
    assert event.occurred_at.seconds > 0
    assert doctor.user_id not in str(event), "the revealed identity is not in the event"


async def test_a_refused_reveal_emits_a_denied_audit_event(stack: Stack) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    member = await stack.physician()
    trace_id, _, header = traceparent()
    error = await rpc_error(
        stack.anonymity.RevealAlias(
            pb.RevealAliasRequest(alias_id=alias, purpose="curious"),
            metadata=(*member.metadata, header),
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    [event] = await audit_events(stack)
    assert event.decision == apb.DECISION_DENIED
    assert event.denial_reason == "PERMISSION_DENIED"
    assert (event.actor_id, event.actor_role) == (member.user_id, apb.ACTOR_ROLE_MEMBER)
    assert event.subject_id == alias and list(event.fields) == []
    assert event.trace_id == trace_id


async def test_no_record_no_audit_event_no_reveal(stack: Stack) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    moderator = await stack.staff(Role.MODERATOR)
    async with stack.instance.engine.begin() as conn:
        await conn.execute(text("DROP TABLE identity_access_records"))
    error = await rpc_error(
        stack.anonymity.RevealAlias(
            pb.RevealAliasRequest(alias_id=alias, purpose="investigation"),
            metadata=moderator.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert await audit_events(stack) == []


async def test_admin_listing_is_audited_without_a_user_id_in_clear(stack: Stack) -> None:
    doctor = await stack.physician()
    await stack.alias(doctor)
    admin = await stack.staff(Role.ADMIN)
    await stack.anonymity.ListAliases(
        pb.ListAliasesRequest(user_id=doctor.user_id, purpose="subject access request"),
        metadata=admin.metadata,
    )
    [event] = await audit_events(stack)
    assert event.action == apb.ACTION_LIST_ALIASES
    assert event.actor_role == apb.ACTOR_ROLE_ADMIN
    assert event.subject_kind == apb.SUBJECT_KIND_USER
    assert event.subject_id.startswith("person:") and doctor.user_id not in event.subject_id


async def test_moderator_suspension_round_trip_and_reinstatement(stack: Stack) -> None:
    doctor = await stack.physician()
    thread = await stack.scope(doctor)
    acted = (await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, thread)).alias_id
    others = sorted(
        [
            (await stack.alias(doctor, pb.VISIBILITY_IDENTIFIED)).alias_id,
            (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id,
        ]
    )
    moderator = await stack.staff(Role.MODERATOR)
    before = stack.handled
    reply = await stack.anonymity.ActOnAlias(
        pb.ActOnAliasRequest(alias_id=acted, action=pb.ALIAS_ACTION_SUSPEND, reason="spam"),
        metadata=moderator.metadata,
    )
    assert stack.accounts.calls == [("suspend", doctor.user_id)]
    [audit] = await audit_events(stack)
    assert audit.event_id == reply.audit_event_id
    assert audit.action == apb.ACTION_SUSPEND_ALIAS and audit.purpose == "spam"

    await stack.settled(before + 1)  # PhysicianSuspended, as identity would publish it
    outbox = await stack.outbox(ANONYMITY_ALIASES)
    suspended = [e.decode(aev.AliasSuspended) for e in outbox]
    assert [(m.alias_id, m.cause) for m in suspended] == [
        (acted, aev.ALIAS_SUSPENSION_CAUSE_MODERATION)
    ], "the acted alias only: the account's suspension announces no alias"
    personas = await stack.describe(acted, *others)
    assert personas[acted].state == pb.ALIAS_STATE_SUSPENDED
    assert all(personas[a].state == pb.ALIAS_STATE_ACTIVE for a in others)

    before = stack.handled
    await stack.anonymity.ActOnAlias(
        pb.ActOnAliasRequest(alias_id=acted, action=pb.ALIAS_ACTION_REINSTATE, reason="ok"),
        metadata=moderator.metadata,
    )
    assert stack.accounts.calls[-1] == ("reinstate", doctor.user_id)
    await stack.settled(before + 1)
    reinstated = (await stack.outbox(ANONYMITY_ALIASES))[len(outbox) :]
    assert [e.decode(aev.AliasReinstated).alias_id for e in reinstated] == [acted]
    personas = await stack.describe(acted, *others)
    assert all(p.state == pb.ALIAS_STATE_ACTIVE for p in personas.values())
    assert (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id in others


async def test_hiding_an_alias_is_audited_as_its_own_action(stack: Stack) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    moderator = await stack.staff(Role.MODERATOR)
    for action in (pb.ALIAS_ACTION_HIDE, pb.ALIAS_ACTION_UNHIDE):
        await stack.anonymity.ActOnAlias(
            pb.ActOnAliasRequest(alias_id=alias, action=action, reason="off-topic"),
            metadata=moderator.metadata,
        )
    hide, unhide = await audit_events(stack)
    assert (hide.action, unhide.action) == (apb.ACTION_HIDE_ALIAS, apb.ACTION_UNHIDE_ALIAS)
    assert hide.subject_id == alias and hide.purpose == "off-topic"
    assert hide.actor_role == apb.ACTOR_ROLE_MODERATOR
    assert stack.accounts.calls == []


class UnreachableIdentity:
    """`AccountModeration` whose identity is down."""

    async def suspend_account(self, user_id: str, reason: str) -> None:
        raise Unavailable("identity did not apply the account action; try again")

    async def reinstate_account(self, user_id: str) -> None:
        raise Unavailable("identity did not apply the account action; try again")


async def test_the_alias_is_suspended_even_when_identity_is_down(
    database_url: str, data_dir: Path, identity_server: Identity
) -> None:
    settings = anonymity_settings(database_url, data_dir, identity_server)
    async with running_anonymity(
        settings, identity_server, accounts=UnreachableIdentity()
    ) as stack:
        doctor = await stack.physician()
        alias = (await stack.alias(doctor)).alias_id
        moderator = await stack.staff(Role.MODERATOR)
        error = await rpc_error(
            stack.anonymity.ActOnAlias(
                pb.ActOnAliasRequest(alias_id=alias, action=pb.ALIAS_ACTION_SUSPEND, reason="x"),
                metadata=moderator.metadata,
            )
        )
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert doctor.user_id not in (error.details() or "")
        [event] = await stack.outbox(ANONYMITY_ALIASES)
        assert event.decode(aev.AliasSuspended).alias_id == alias
        assert (await stack.describe(alias))[alias].state == pb.ALIAS_STATE_SUSPENDED
