"""Events at the edge: identity's payloads in, alias and identity-access payloads out.

Outgoing alias events carry the alias id and, for suspensions, the cause: field by field,
so nothing the proto does not name (a user id, a reason) can slip onto content's topic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from google.protobuf.message import Message

from consilium.audit.v1 import audit_pb2 as apb
from consilium.events.v1 import anonymity_events_pb2 as aev
from consilium.events.v1 import audit_events_pb2 as auev
from consilium.events.v1 import identity_events_pb2 as iev
from consilium.identity.v1 import identity_pb2 as ipb
from plumbing.auth import Role, VerificationStatus
from plumbing.events.envelope import Event, new_event
from plumbing.events.topics import ANONYMITY_ALIASES, AUDIT_IDENTITY_ACCESS
from plumbing.timestamps import timestamp
from services.anonymity.domain.access import AccessAction, AccessRecord, Decision
from services.anonymity.domain.events import (
    AliasEvent,
    AliasOrphaned,
    AliasReinstated,
    AliasSuspended,
    PhysicianChange,
    PhysicianErased,
    PhysicianRegistered,
    PhysicianReinstated,
    PhysicianSpecialtyChanged,
    PhysicianSuspended,
    PhysicianVerified,
    SuspensionCause,
)

#: CloudEvents `source` of every event anonymity publishes.
SOURCE = "/consilium/anonymity"
#: The audit chain this service's identity-access events belong to (the topic's key).
PRODUCER = "anonymity"

_CAUSES = {
    SuspensionCause.MODERATION: aev.ALIAS_SUSPENSION_CAUSE_MODERATION,
    SuspensionCause.ACCOUNT_SUSPENDED: aev.ALIAS_SUSPENSION_CAUSE_ACCOUNT_SUSPENDED,
}
_STATUSES = {
    ipb.VERIFICATION_STATUS_PENDING: VerificationStatus.PENDING,
    ipb.VERIFICATION_STATUS_VERIFIED: VerificationStatus.VERIFIED,
    ipb.VERIFICATION_STATUS_REJECTED: VerificationStatus.REJECTED,
    ipb.VERIFICATION_STATUS_SUSPENDED: VerificationStatus.SUSPENDED,
}
_ACTIONS = {
    AccessAction.REVEAL_ALIAS: apb.ACTION_REVEAL_ALIAS,
    AccessAction.SUSPEND_ALIAS_OWNER: apb.ACTION_SUSPEND_ALIAS,
    AccessAction.REINSTATE_ALIAS_OWNER: apb.ACTION_REINSTATE_ALIAS,
    AccessAction.HIDE_ALIAS: apb.ACTION_HIDE_ALIAS,
    AccessAction.UNHIDE_ALIAS: apb.ACTION_UNHIDE_ALIAS,
    AccessAction.LIST_ALIASES: apb.ACTION_LIST_ALIASES,
    AccessAction.MODERATE_CONTENT: apb.ACTION_MODERATE_CONTENT,
}
#: The identity fields each action discloses (or acts on without disclosing).
_FIELDS: dict[AccessAction, list[str]] = {
    AccessAction.REVEAL_ALIAS: ["user_id"],
    AccessAction.SUSPEND_ALIAS_OWNER: [],
    AccessAction.REINSTATE_ALIAS_OWNER: [],
    AccessAction.HIDE_ALIAS: [],
    AccessAction.UNHIDE_ALIAS: [],
    AccessAction.LIST_ALIASES: ["alias_ids"],
    AccessAction.MODERATE_CONTENT: [],
}
_DECISIONS = {
    Decision.GRANTED: apb.DECISION_GRANTED,
    Decision.DENIED: apb.DECISION_DENIED,
}
# The role an actor acted in: the most privileged one they hold.
_ROLES = (
    (Role.ADMIN, apb.ACTOR_ROLE_ADMIN),
    (Role.MODERATOR, apb.ACTOR_ROLE_MODERATOR),
    (Role.AUDITOR, apb.ACTOR_ROLE_AUDITOR),
    (Role.MEMBER, apb.ACTOR_ROLE_MEMBER),
)


def alias_event_to_proto(event: AliasEvent) -> Message:
    match event:
        case AliasSuspended(alias_id, cause):
            return aev.AliasSuspended(alias_id=alias_id, cause=_CAUSES[cause])
        case AliasReinstated(alias_id):
            return aev.AliasReinstated(alias_id=alias_id)
        case AliasOrphaned(alias_id):
            return aev.AliasOrphaned(alias_id=alias_id)
        case _:
            assert_never(event)


def alias_envelope(event: AliasEvent) -> Event:
    """On `anonymity.aliases.v1`, keyed by alias id, with the current trace context."""
    return new_event(
        alias_event_to_proto(event), topic=ANONYMITY_ALIASES, key=event.alias_id, source=SOURCE
    )


def _acting_role(roles: str) -> apb.ActorRole.ValueType:
    held = set(roles.split(",")) if roles else set()
    for role, value in _ROLES:
        if role.value in held:
            return value
    return apb.ACTOR_ROLE_UNSPECIFIED


def audit_event_to_proto(record: AccessRecord) -> apb.AuditEvent:
    """The record as the ledger's `AuditEvent`; chain fields are left to the chain's keeper.

    Subjects are alias ids, or for person-level reads (LIST_ALIASES) `person:<blind index>`:
    anonymity keeps no user id in clear, not even in its outbox.
    """
    return apb.AuditEvent(
        event_id=record.record_id,
        occurred_at=timestamp(record.occurred_at),
        producer=PRODUCER,
        actor_id=record.actor_id,
        actor_role=_acting_role(record.actor_roles),
        subject_id=record.subject,
        subject_kind=_subject_kind(record),
        action=_ACTIONS[record.action],
        fields=_FIELDS[record.action] if record.decision is Decision.GRANTED else [],
        purpose=record.purpose,
        decision=_DECISIONS[record.decision],
        denial_reason=record.reason,
        trace_id=record.trace_id,
        span_id=record.span_id,
    )


def _subject_kind(record: AccessRecord) -> apb.SubjectKind.ValueType:
    if record.subject.startswith("person:"):
        return apb.SUBJECT_KIND_USER
    if record.action is AccessAction.MODERATE_CONTENT:
        return apb.SUBJECT_KIND_CONTENT_ITEM
    return apb.SUBJECT_KIND_ALIAS


def audit_envelope(event: apb.AuditEvent) -> Event:
    """On `audit.identity-access.v1`, keyed by producer so the chain stays in one partition."""
    payload = auev.IdentityAccessRecorded(event=event)
    return new_event(payload, topic=AUDIT_IDENTITY_ACCESS, key=PRODUCER, source=SOURCE)


def _registered(event: Event) -> PhysicianChange:
    m = event.decode(iev.PhysicianRegistered)
    # The event carries no name (it outlives erasure): "" makes the name be asked of identity.
    return PhysicianRegistered(m.user_id, "", m.specialty_code)


def _verified(event: Event) -> PhysicianChange:
    m = event.decode(iev.PhysicianVerified)
    return PhysicianVerified(m.user_id, m.specialty_code)


def _specialty_changed(event: Event) -> PhysicianChange:
    m = event.decode(iev.PhysicianSpecialtyChanged)
    return PhysicianSpecialtyChanged(m.user_id, m.specialty_code)


def _suspended(event: Event) -> PhysicianChange:
    return PhysicianSuspended(event.decode(iev.PhysicianSuspended).user_id)


def _reinstated(event: Event) -> PhysicianChange:
    m = event.decode(iev.PhysicianReinstated)
    return PhysicianReinstated(m.user_id, _STATUSES.get(m.verification, VerificationStatus.PENDING))


def _erased(event: Event) -> PhysicianChange:
    return PhysicianErased(event.decode(iev.PhysicianErased).user_id)


_DECODERS: dict[str, Callable[[Event], PhysicianChange]] = {
    iev.PhysicianRegistered.DESCRIPTOR.full_name: _registered,
    iev.PhysicianVerified.DESCRIPTOR.full_name: _verified,
    iev.PhysicianSpecialtyChanged.DESCRIPTOR.full_name: _specialty_changed,
    iev.PhysicianSuspended.DESCRIPTOR.full_name: _suspended,
    iev.PhysicianReinstated.DESCRIPTOR.full_name: _reinstated,
    iev.PhysicianErased.DESCRIPTOR.full_name: _erased,
}


def physician_change(event: Event) -> PhysicianChange | None:
    """The change `event` announces; None for a type this version does not know (skipped).

    MalformedEvent (from `decode`) if the payload is corrupt: the consumer dead-letters it.
    """
    decoder = _DECODERS.get(event.type)
    return decoder(event) if decoder is not None else None
