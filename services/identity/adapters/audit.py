"""Identity's audit chain: numbers, links and signs access events inside the caller's transaction
(the locking and linking are plumbing.auditchain_row, shared with anonymity).

Each event goes to the outbox as `IdentityAccessRecorded` on `audit.identity-access.v1`,
keyed by the producer so the chain stays in one partition. Under the lock and before the
hashing, `AuditSubjects` replaces each subject's user id by its blind tag and a sealed link,
so no identity event names a person in a form that outlives their erasure.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession

from consilium.audit.v1 import audit_pb2 as apb
from consilium.events.v1 import audit_events_pb2 as auev
from plumbing.auditchain_row import ChainRow
from plumbing.auditkeys import AuditSigningKey
from plumbing.events.envelope import Event, new_event
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS
from plumbing.timestamps import timestamp
from services.identity.adapters.audit_subjects import AuditSubjects
from services.identity.adapters.events import SOURCE
from services.identity.adapters.tables import audit_chain
from services.identity.domain.access import (
    AccessAction,
    AccessDecision,
    ActorRole,
    IdentityAccess,
)

#: The chain identity's events belong to, and the key of every audit event it publishes.
PRODUCER = "identity"

_ROLES: dict[ActorRole, apb.ActorRole.ValueType] = {
    ActorRole.MEMBER: apb.ACTOR_ROLE_MEMBER,
    ActorRole.MODERATOR: apb.ACTOR_ROLE_MODERATOR,
    ActorRole.AUDITOR: apb.ACTOR_ROLE_AUDITOR,
    ActorRole.ADMIN: apb.ACTOR_ROLE_ADMIN,
    ActorRole.SERVICE: apb.ACTOR_ROLE_SERVICE,
    ActorRole.UNSPECIFIED: apb.ACTOR_ROLE_UNSPECIFIED,
}
# The proto has no action of its own for persona attributes: they are a subset of the
# profile, read by a service, so READ_PROFILE with ACTOR_ROLE_SERVICE and the fields named.
_ACTIONS: dict[AccessAction, apb.Action.ValueType] = {
    AccessAction.READ_PROFILE: apb.ACTION_READ_PROFILE,
    AccessAction.READ_PERSONA_ATTRIBUTES: apb.ACTION_READ_PROFILE,
    AccessAction.VERIFY_PHYSICIAN: apb.ACTION_VERIFY_PHYSICIAN,
    AccessAction.SET_ROLES: apb.ACTION_SET_ROLES,
    AccessAction.SUSPEND_PHYSICIAN: apb.ACTION_SUSPEND_PHYSICIAN,
    AccessAction.REINSTATE_PHYSICIAN: apb.ACTION_REINSTATE_PHYSICIAN,
    AccessAction.ERASE_PHYSICIAN: apb.ACTION_ERASE_PHYSICIAN,
}
_DECISIONS: dict[AccessDecision, apb.Decision.ValueType] = {
    AccessDecision.GRANTED: apb.DECISION_GRANTED,
    AccessDecision.DENIED: apb.DECISION_DENIED,
}


def current_trace_ids() -> tuple[str, str]:
    """(trace id, span id) of the current span, W3C hex; empty outside any trace."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return "", ""
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def access_to_proto(access: IdentityAccess, *, trace_id: str, span_id: str) -> apb.AuditEvent:
    """The access as the ledger's `AuditEvent`; chain fields are left to `AuditChain`."""
    return apb.AuditEvent(
        event_id=str(uuid.uuid4()),
        occurred_at=timestamp(access.occurred_at),
        producer=PRODUCER,
        actor_id=access.actor_id,
        actor_role=_ROLES[access.actor_role],
        subject_id=access.subject_id,
        subject_kind=apb.SUBJECT_KIND_USER,
        action=_ACTIONS[access.action],
        fields=list(access.fields),
        purpose=access.purpose,
        decision=_DECISIONS[access.decision],
        denial_reason=access.denial_reason,
        trace_id=trace_id,
        span_id=span_id,
    )


def audit_envelope(event: apb.AuditEvent) -> Event:
    """On `audit.identity-access.v1`, keyed by producer so the chain stays in one partition."""
    payload = auev.IdentityAccessRecorded(event=event)
    return new_event(payload, topic=AUDIT_IDENTITY_ACCESS, key=PRODUCER, source=SOURCE)


class AuditChain:
    """Links events as `producer`'s next ones, signed with `key`, their subjects blinded."""

    def __init__(
        self, key: AuditSigningKey, subjects: AuditSubjects, *, producer: str = PRODUCER
    ) -> None:
        self._row = ChainRow(audit_chain, producer, key)
        self._subjects = subjects

    @property
    def subjects(self) -> AuditSubjects:
        return self._subjects

    @property
    def key_id(self) -> str:
        return self._row.key_id

    async def lock(self, session: AsyncSession) -> None:
        """Takes the chain's lock now, held to commit, before the unit reads anything (the
        actor's live roles, the state before a change)."""
        await self._row.lock(session)

    async def append(self, session: AsyncSession, events: Sequence[apb.AuditEvent]) -> int:
        """Fills `events`' chain fields as the next ones, in order; returns the last sequence.

        Under the lock and before the hashing, each subject's user id becomes its blind tag
        and a sealed link. Run it first in the transaction that queues `events`.
        """
        return await self._row.append(session, events, prepare=self._subjects.blind)
