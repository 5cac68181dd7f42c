"""Audit types: the ledger's identity-access events and chain reports, for auditors only.

Nothing here is reachable from content types (P4): only the AUDITOR root fields lead here.
"""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from consilium.audit.v1 import audit_pb2 as pb
from gateway.schema.types.connections import Edge, PageInfo, edges
from gateway.schema.types.enums import ProtoEnum, from_proto, to_proto
from gateway.schema.types.transparency import AuditInclusionProof, ProofLoader
from plumbing.timestamps import timestamp, to_datetime

#: The most events one page may hold (the audit service's own maximum).
MAX_AUDIT_PAGE = 200


@strawberry.enum(description="What kind of identity access happened.")
class AuditAction(enum.Enum):
    REVEAL_ALIAS = "REVEAL_ALIAS"
    SUSPEND_ALIAS = "SUSPEND_ALIAS"
    REINSTATE_ALIAS = "REINSTATE_ALIAS"
    LIST_ALIASES = "LIST_ALIASES"
    ERASE_ALIASES = "ERASE_ALIASES"
    RESOLVE_ALIAS = "RESOLVE_ALIAS"
    READ_PROFILE = "READ_PROFILE"
    VERIFY_PHYSICIAN = "VERIFY_PHYSICIAN"
    SET_ROLES = "SET_ROLES"
    SUSPEND_PHYSICIAN = "SUSPEND_PHYSICIAN"
    REINSTATE_PHYSICIAN = "REINSTATE_PHYSICIAN"
    ERASE_PHYSICIAN = "ERASE_PHYSICIAN"
    HIDE_ALIAS = "HIDE_ALIAS"
    UNHIDE_ALIAS = "UNHIDE_ALIAS"
    KEY_ROTATED = "KEY_ROTATED"
    QUERY_AUDIT_EVENTS = "QUERY_AUDIT_EVENTS"
    VERIFY_AUDIT_CHAINS = "VERIFY_AUDIT_CHAINS"
    READ_AUDIT_CHECKPOINT = "READ_AUDIT_CHECKPOINT"
    READ_INCLUSION_PROOF = "READ_INCLUSION_PROOF"
    READ_CONSISTENCY_PROOF = "READ_CONSISTENCY_PROOF"
    LIST_CHAIN_EVENTS = "LIST_CHAIN_EVENTS"
    MODERATE_CONTENT = "MODERATE_CONTENT"


@strawberry.enum(description="Whether the access was allowed; refused attempts are recorded too.")
class AuditDecision(enum.Enum):
    GRANTED = "GRANTED"
    DENIED = "DENIED"


@strawberry.enum(description="The role an actor acted in; SERVICE is a service on its own behalf.")
class AuditActorRole(enum.Enum):
    MEMBER = "MEMBER"
    MODERATOR = "MODERATOR"
    AUDITOR = "AUDITOR"
    ADMIN = "ADMIN"
    SERVICE = "SERVICE"


@strawberry.enum(description="What kind of id an audit event's subject is.")
class AuditSubjectKind(enum.Enum):
    USER = "USER"
    ALIAS = "ALIAS"
    USER_TAG = "USER_TAG"
    AUDIT_LOG = "AUDIT_LOG"
    CONTENT_ITEM = "CONTENT_ITEM"


@strawberry.enum(description="What verification found wrong with one event of a chain.")
class ChainProblemKind(enum.Enum):
    HASH_MISMATCH = "HASH_MISMATCH"
    BROKEN_LINK = "BROKEN_LINK"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    DUPLICATE_SEQUENCE = "DUPLICATE_SEQUENCE"
    MISSING_PRODUCER = "MISSING_PRODUCER"
    UNKNOWN_PRODUCER = "UNKNOWN_PRODUCER"
    WRONG_PRODUCER_KEY = "WRONG_PRODUCER_KEY"
    INDEX_MISMATCH = "INDEX_MISMATCH"
    TRUNCATED = "TRUNCATED"
    LOG_MISMATCH = "LOG_MISMATCH"
    KEY_NOT_ROTATED = "KEY_NOT_ROTATED"
    BAD_ROTATION = "BAD_ROTATION"


ACTION: ProtoEnum = (pb.Action, "ACTION")
DECISION: ProtoEnum = (pb.Decision, "DECISION")
ACTOR_ROLE: ProtoEnum = (pb.ActorRole, "ACTOR_ROLE")
SUBJECT_KIND: ProtoEnum = (pb.SubjectKind, "SUBJECT_KIND")
PROBLEM_KIND: ProtoEnum = (pb.ProblemKind, "PROBLEM_KIND")


@strawberry.type(description="One identity access, as its producer recorded and signed it.")
class AuditEvent:
    id: strawberry.ID
    occurred_at: datetime
    producer: str = strawberry.field(description="The service that recorded it.")
    sequence: int = strawberry.field(description="Position in the producer's hash chain.")
    actor_id: strawberry.ID = strawberry.field(description="A user id, or a service's name.")
    actor_role: AuditActorRole | None
    subject_id: strawberry.ID = strawberry.field(
        description="An alias id, a user id, or a user id's blind tag (USER_TAG)."
    )
    subject_kind: AuditSubjectKind | None
    action: AuditAction | None
    fields: list[str] = strawberry.field(description="Identity fields disclosed or changed.")
    purpose: str = strawberry.field(description="The stated purpose or reason.")
    decision: AuditDecision | None
    denial_reason: str | None
    trace_id: str = strawberry.field(description="W3C trace id of the causing GraphQL request.")
    span_id: str
    proofs: strawberry.Private[ProofLoader | None] = None

    @strawberry.field(
        description="That this event is in its producer's signed log: null until the ledger "
        "has verified it into the log. One batched call serves a whole page."
    )
    async def inclusion_proof(self) -> AuditInclusionProof | None:
        if self.proofs is None:
            return None
        return await self.proofs.load(str(self.id))

    @classmethod
    def from_proto(cls, event: pb.AuditEvent, proofs: ProofLoader | None = None) -> AuditEvent:
        return cls(
            id=strawberry.ID(event.event_id),
            occurred_at=to_datetime(event.occurred_at),
            producer=event.producer,
            sequence=event.sequence,
            actor_id=strawberry.ID(event.actor_id),
            actor_role=from_proto(AuditActorRole, ACTOR_ROLE, event.actor_role),
            subject_id=strawberry.ID(event.subject_id),
            subject_kind=from_proto(AuditSubjectKind, SUBJECT_KIND, event.subject_kind),
            action=from_proto(AuditAction, ACTION, event.action),
            fields=list(event.fields),
            purpose=event.purpose,
            decision=from_proto(AuditDecision, DECISION, event.decision),
            denial_reason=event.denial_reason or None,
            trace_id=event.trace_id,
            span_id=event.span_id,
            proofs=proofs,
        )


@strawberry.type
class AuditEventConnection:
    nodes: list[AuditEvent]
    edges: list[Edge[AuditEvent]]
    page_info: PageInfo

    @classmethod
    def from_proto(
        cls, reply: pb.QueryEventsResponse, proofs: ProofLoader | None = None
    ) -> AuditEventConnection:
        nodes = [AuditEvent.from_proto(e, proofs) for e in reply.events]
        cursors = list(reply.cursors)
        if len(cursors) != len(nodes):
            # A ledger from before per-event cursors (a rolling upgrade): every edge continues
            # after the whole page, which repeats nothing.
            cursors = [reply.next_page_token] * len(nodes)
        return cls(
            nodes=nodes,
            edges=edges(nodes, cursors),
            # The ledger's next token, not the last edge's cursor, when it has one: events it
            # stored but could not verify are left out of a page, and paging must pass them.
            page_info=PageInfo(
                has_next_page=bool(reply.next_page_token),
                end_cursor=reply.next_page_token or (cursors[-1] if cursors else None),
                start_cursor=cursors[0] if cursors else None,
            ),
        )


@strawberry.input(description="Unset fields match everything; set ones must all match.")
class AuditFilter:
    actor_id: strawberry.ID | None = None
    subject_id: strawberry.ID | None = None
    actions: list[AuditAction] | None = strawberry.field(
        default=None, description="Any of these actions."
    )
    decision: AuditDecision | None = None
    occurred_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    occurred_before: datetime | None = strawberry.field(default=None, description="Exclusive.")
    trace_id: str | None = None
    producer: str | None = None

    def to_proto(self) -> pb.EventFilter:
        message = pb.EventFilter(
            actor_id=str(self.actor_id or ""),
            subject_id=str(self.subject_id or ""),
            actions=[pb.Action.ValueType(to_proto(a, ACTION)) for a in self.actions or ()],
            decision=pb.Decision.ValueType(
                to_proto(self.decision, DECISION) if self.decision else 0
            ),
            trace_id=self.trace_id or "",
            producer=self.producer or "",
        )
        if self.occurred_after is not None:
            message.occurred_after.CopyFrom(timestamp(self.occurred_after))
        if self.occurred_before is not None:
            message.occurred_before.CopyFrom(timestamp(self.occurred_before))
        return message


@strawberry.type(description="Sequence numbers missing from a chain, inclusive.")
class SequenceGap:
    first_missing: int
    last_missing: int


@strawberry.type(description="One problem found in a chain.")
class ChainProblem:
    sequence: int
    event_id: strawberry.ID
    kind: ChainProblemKind | None
    detail: str


@strawberry.type(description="The verdict on one producer's hash chain.")
class ChainReport:
    producer: str
    ok: bool = strawberry.field(description="No gaps and no problems.")
    event_count: int
    last_sequence: int
    gaps: list[SequenceGap]
    problems: list[ChainProblem]
    log_size: int = strawberry.field(
        description="How many events the producer's transparency log holds (verified, "
        "contiguous from 1)."
    )

    @classmethod
    def from_proto(cls, report: pb.ChainReport) -> ChainReport:
        return cls(
            producer=report.producer,
            ok=report.ok,
            event_count=report.event_count,
            last_sequence=report.last_sequence,
            log_size=report.log_size,
            gaps=[
                SequenceGap(first_missing=g.first_missing, last_missing=g.last_missing)
                for g in report.gaps
            ],
            problems=[
                ChainProblem(
                    sequence=p.sequence,
                    event_id=strawberry.ID(p.event_id),
                    kind=from_proto(ChainProblemKind, PROBLEM_KIND, p.kind),
                    detail=p.detail,
                )
                for p in report.problems
            ],
        )
