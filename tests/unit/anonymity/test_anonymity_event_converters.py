"""Event payloads at anonymity's edge: identity's decoded, alias and audit ones encoded."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from google.protobuf.message import Message

from consilium.audit.v1 import audit_pb2 as apb
from consilium.events.v1 import anonymity_events_pb2 as aev
from consilium.events.v1 import audit_events_pb2 as auev
from consilium.events.v1 import identity_events_pb2 as iev
from consilium.identity.v1 import identity_pb2 as ipb
from plumbing.auth import VerificationStatus
from plumbing.events.envelope import Event, MalformedEvent, new_event
from plumbing.events.topics import ANONYMITY_ALIASES, AUDIT_IDENTITY_ACCESS, IDENTITY_PHYSICIANS
from services.anonymity.adapters.event_converters import (
    alias_envelope,
    audit_envelope,
    audit_event_to_proto,
    physician_change,
)
from services.anonymity.domain.access import AccessAction, AccessRecord, Decision
from services.anonymity.domain.events import (
    AliasOrphaned,
    AliasReinstated,
    AliasSuspended,
    PhysicianRegistered,
    PhysicianReinstated,
    SuspensionCause,
)

ALIAS = "als_abcdefghijklmnopqrstuvwxyz"
USER = "usr_abcdefghijklmnopqrstuvwxyz"


def identity(message: Message) -> Event:
    return new_event(message, topic=IDENTITY_PHYSICIANS, key=USER, source="/consilium/identity")


def test_identity_payloads_become_changes() -> None:
    registered = identity(iev.PhysicianRegistered(user_id=USER, specialty_code="207RC0000X"))
    # No name travels (P6): "" has anonymity ask identity for it.
    assert physician_change(registered) == PhysicianRegistered(USER, "", "207RC0000X")
    reinstated = identity(
        iev.PhysicianReinstated(user_id=USER, verification=ipb.VERIFICATION_STATUS_VERIFIED)
    )
    assert physician_change(reinstated) == PhysicianReinstated(USER, VerificationStatus.VERIFIED)


def test_unknown_types_are_none_and_corrupt_payloads_raise() -> None:
    assert physician_change(identity(ipb.ListSpecialtiesRequest())) is None
    event = identity(iev.PhysicianErased(user_id=USER))
    corrupt = dataclasses.replace(event, data=b"\xff")
    with pytest.raises(MalformedEvent):
        physician_change(corrupt)


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        (
            AliasSuspended(ALIAS, SuspensionCause.MODERATION),
            aev.AliasSuspended(alias_id=ALIAS, cause=aev.ALIAS_SUSPENSION_CAUSE_MODERATION),
        ),
        (AliasReinstated(ALIAS), aev.AliasReinstated(alias_id=ALIAS)),
        (AliasOrphaned(ALIAS), aev.AliasOrphaned(alias_id=ALIAS)),
    ],
)
def test_alias_events_are_keyed_by_alias_and_carry_only_it(event: object, payload: object) -> None:
    envelope = alias_envelope(event)  # type: ignore[arg-type]
    assert (envelope.topic, envelope.key, envelope.source) == (
        ANONYMITY_ALIASES,
        ALIAS,
        "/consilium/anonymity",
    )
    assert envelope.decode(type(payload)) == payload  # type: ignore[arg-type]


def record(**overrides: object) -> AccessRecord:
    values: dict[str, object] = {
        "record_id": "iar_0123",
        "occurred_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "actor_id": "usr_moderator",
        "actor_roles": "MEMBER,MODERATOR",
        "subject": ALIAS,
        "action": AccessAction.REVEAL_ALIAS,
        "purpose": "report 7",
        "decision": Decision.GRANTED,
        "reason": "",
        "trace_id": "a" * 32,
        "span_id": "b" * 16,
    }
    values.update(overrides)
    return AccessRecord(**values)  # type: ignore[arg-type]


def test_access_records_become_audit_events_keyed_by_producer() -> None:
    envelope = audit_envelope(audit_event_to_proto(record()))
    assert (envelope.topic, envelope.key) == (AUDIT_IDENTITY_ACCESS, "anonymity")
    event = envelope.decode(auev.IdentityAccessRecorded).event
    assert event.event_id == "iar_0123" and event.producer == "anonymity"
    assert event.occurred_at.ToDatetime(tzinfo=UTC) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (event.actor_id, event.actor_role) == ("usr_moderator", apb.ACTOR_ROLE_MODERATOR)
    assert (event.subject_id, event.subject_kind) == (ALIAS, apb.SUBJECT_KIND_ALIAS)
    assert (event.action, event.decision) == (apb.ACTION_REVEAL_ALIAS, apb.DECISION_GRANTED)
    assert list(event.fields) == ["user_id"] and event.purpose == "report 7"
    assert (event.trace_id, event.span_id) == ("a" * 32, "b" * 16)


def test_denied_and_person_level_records() -> None:
    denied = audit_envelope(
        audit_event_to_proto(
            record(decision=Decision.DENIED, reason="PERMISSION_DENIED", actor_roles="")
        )
    ).decode(auev.IdentityAccessRecorded)
    assert denied.event.decision == apb.DECISION_DENIED
    assert denied.event.denial_reason == "PERMISSION_DENIED"
    assert denied.event.actor_role == apb.ACTOR_ROLE_UNSPECIFIED and not denied.event.fields
    listed = audit_envelope(
        audit_event_to_proto(
            record(
                action=AccessAction.LIST_ALIASES, subject="person:00ff", actor_roles="ADMIN,MEMBER"
            )
        )
    ).decode(auev.IdentityAccessRecorded)
    assert listed.event.subject_kind == apb.SUBJECT_KIND_USER
    assert listed.event.actor_role == apb.ACTOR_ROLE_ADMIN
