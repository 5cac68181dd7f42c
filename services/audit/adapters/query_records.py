"""The ledger as producer "audit": each auditor query, granted or refused, is a signed event.

Auditors read whose identity was accessed, so their reads are identity accesses too (A1). The
event is chained and signed like identity's and anonymity's (plumbing.auditchain_row), then,
in one transaction, stored in the ledger (so it enters the verified log and its checkpoints
like any producer's event) and queued in the outbox for `audit.identity-access.v1` (so
`consilium audit verify --from-topic` sees this chain too; the ledger's consumer skips the copy
it already holds). The servicer answers only after that transaction commits: no record, no
answer.

No person appears in clear: the actor is the blind tag of their user id (plumbing.auditlink,
the tag key the ledger shares with identity), and so is a user id the auditor searched for.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from consilium.audit.v1 import audit_pb2 as pb
from consilium.events.v1 import audit_events_pb2 as epb
from plumbing.auditchain_row import ChainRow
from plumbing.auditkeys import AuditSigningKey
from plumbing.auditlink import is_subject_tag, subject_tag
from plumbing.auth.claims import AccessClaims, Role
from plumbing.events.envelope import new_event
from plumbing.events.outbox import add_to_outbox
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS
from services.audit.adapters.store import append
from services.audit.adapters.tables import audit_chain, event_tables

#: The chain auditors' queries belong to, and the key of the records it publishes.
PRODUCER = "audit"
SOURCE = "/consilium/audit"
#: Alias ids are anonymity's; anything else an auditor names as a person is a user id.
_ALIAS_PREFIX = "als_"
#: What fits the ledger's indexed subject column as is; anything else is recorded by tag
#: (a person) or as "?" (a producer name the request got wrong).
_MAX_ID = 64
_PRODUCER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
#: The role recorded: the most powerful one the token claims (AUDITOR when it has it).
_ROLE_ORDER = (
    (Role.AUDITOR, pb.ACTOR_ROLE_AUDITOR),
    (Role.ADMIN, pb.ACTOR_ROLE_ADMIN),
    (Role.MODERATOR, pb.ACTOR_ROLE_MODERATOR),
    (Role.MEMBER, pb.ACTOR_ROLE_MEMBER),
)


@dataclass(frozen=True, slots=True)
class Subject:
    """What a query read: a person (by alias, user id or tag), or a producer's log."""

    id: str = ""
    kind: pb.SubjectKind.ValueType = pb.SUBJECT_KIND_AUDIT_LOG

    @classmethod
    def log(cls, producer: str = "") -> Subject:
        valid = not producer or _PRODUCER_NAME.fullmatch(producer)
        return cls(producer if valid else "?", pb.SUBJECT_KIND_AUDIT_LOG)

    @classmethod
    def person(cls, value: str) -> Subject:
        if value.startswith(_ALIAS_PREFIX) and len(value) <= _MAX_ID:
            return cls(value, pb.SUBJECT_KIND_ALIAS)
        # A user id (or a tag already): turned into its tag when the event is made.
        return cls(value, pb.SUBJECT_KIND_USER_TAG)


def _role(claims: AccessClaims) -> pb.ActorRole.ValueType:
    for role, value in _ROLE_ORDER:
        if role in claims.roles:
            return value
    return pb.ACTOR_ROLE_UNSPECIFIED


def _trace_ids() -> tuple[str, str]:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return "", ""
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


class QueryRecords:
    """Writes the audit producer's events: one per auditor RPC, in its own transaction."""

    def __init__(self, engine: AsyncEngine, key: AuditSigningKey, tag_key: bytes) -> None:
        self._engine = engine
        self._row = ChainRow(audit_chain, PRODUCER, key)
        self._tag_key = tag_key

    @property
    def key_id(self) -> str:
        return self._row.key_id

    def _tag(self, value: str) -> str:
        return value if is_subject_tag(value) else subject_tag(self._tag_key, value)

    def event(
        self,
        caller: AccessClaims,
        action: pb.Action.ValueType,
        subject: Subject,
        *,
        fields: Sequence[str] = (),
        denial: str = "",
    ) -> pb.AuditEvent:
        """The record of one query, chain fields still empty; `denial` empty when granted."""
        trace_id, span_id = _trace_ids()
        subject_id = subject.id
        if subject.kind == pb.SUBJECT_KIND_USER_TAG and subject_id:
            subject_id = self._tag(subject_id)
        event = pb.AuditEvent(
            event_id=str(uuid.uuid4()),
            producer=PRODUCER,
            actor_id=self._tag(caller.user_id),
            actor_role=_role(caller),
            subject_id=subject_id,
            subject_kind=subject.kind,
            action=action,
            fields=list(fields),
            decision=pb.DECISION_DENIED if denial else pb.DECISION_GRANTED,
            denial_reason=denial,
            trace_id=trace_id,
            span_id=span_id,
        )
        event.occurred_at.GetCurrentTime()
        return event

    async def record(self, event: pb.AuditEvent) -> None:
        """Chains, signs, stores and queues `event`; commits before returning, or raises."""
        envelope_of = epb.IdentityAccessRecorded
        async with AsyncSession(self._engine, expire_on_commit=False) as session, session.begin():
            await self._row.append(session, [event])
            await append(session, event)
            # Built after linking: the envelope carries the signed event.
            envelope = new_event(
                envelope_of(event=event), topic=AUDIT_IDENTITY_ACCESS, key=PRODUCER, source=SOURCE
            )
            await add_to_outbox(session, event_tables.outbox, [envelope])
