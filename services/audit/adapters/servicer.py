"""The AuditService gRPC servicer: convert, call the use case, convert.

Every RPC first checks the caller: an AUDITOR token, then the same account's current
standing at identity (`LiveStaffCheck`, CheckActor with audit's own service credential),
so a demoted or suspended auditor reads nothing more (issue 10, finding 3). If identity
cannot be asked, the query is refused with UNAVAILABLE (fail closed).

Every RPC of a signed-in caller, granted or refused, is then one event of the ledger's own
chain (`QueryRecords`, producer "audit"), committed before the answer leaves: no record, no
answer. A call with no valid token names nobody and is refused unrecorded, so anonymous
traffic cannot grow the chain.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from consilium.audit.v1 import audit_pb2 as pb
from consilium.audit.v1 import audit_pb2_grpc
from plumbing.auth import AccessClaims, Role
from plumbing.auth.live import LiveStaffCheck
from plumbing.auth.remote import RemoteTokenVerifier
from plumbing.errors import DomainError, FieldViolation, InvalidArgument
from plumbing.grpc.caller import caller_token
from services.audit.adapters.converters import cursor_of, filter_from_proto, report_to_proto
from services.audit.adapters.query_records import QueryRecords, Subject
from services.audit.domain.query import require_auditor
from services.audit.service import AuditService
from services.audit.transparency import TransparencyLog

Context = Any  # grpc.aio.ServicerContext; unused beyond the signature
T = TypeVar("T")

MAX_BATCH = 200
#: A producer name: it becomes a log origin (`consilium.audit/<producer>`), one note line.
_PRODUCER = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def _producer(value: str, *, optional: bool = False) -> str:
    if (optional and not value) or _PRODUCER.fullmatch(value):
        return value
    raise InvalidArgument(
        [FieldViolation("producer", "a producer name, e.g. identity (a-z, 0-9, '.', '_', '-')")]
    )


def _refusal(error: BaseException) -> str:
    """The denial reason recorded: the error's code and message, as the caller saw them."""
    if isinstance(error, DomainError):
        return f"{error.code.name}: {error}"
    return "INTERNAL: the query failed"


def _query_subject(where: pb.EventFilter) -> tuple[Subject, list[str]]:
    """Whom a QueryEvents read (a person it named first), and which criteria it set."""
    criteria = [descriptor.name for descriptor, _ in where.ListFields()]
    if where.subject_id:
        return Subject.person(where.subject_id), criteria
    if where.actor_id:
        return Subject.person(where.actor_id), criteria
    return Subject.log(where.producer), criteria


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    """Adapts gRPC calls to `AuditService`; the caller comes from the bearer token."""

    def __init__(
        self,
        service: AuditService,
        tokens: RemoteTokenVerifier,
        tlog: TransparencyLog,
        live: LiveStaffCheck | None = None,
        records: QueryRecords | None = None,
    ) -> None:
        self._service = service
        self._tokens = tokens
        self._tlog = tlog
        self._live = live
        self._records = records

    async def _answer(
        self,
        action: pb.Action.ValueType,
        subject: Subject,
        serve: Callable[[AccessClaims], Awaitable[T]],
        *,
        fields: Sequence[str] = (),
    ) -> T:
        """`serve`'s answer for an auditor who still holds the role, once its record is
        committed; a refusal (or a failed answer) is recorded, then raised."""
        claims = await self._tokens.claims(caller_token())
        try:
            # Refused before the request is read: a non-auditor learns nothing, not even
            # whether what they asked for exists.
            caller = require_auditor(claims)
            if self._live is not None:
                await self._live.require(caller, Role.AUDITOR)
            answer = await serve(caller)
        except Exception as error:
            if claims is not None and self._records is not None:
                denied = self._records.event(
                    claims, action, subject, fields=fields, denial=_refusal(error)
                )
                await self._records.record(denied)
            raise
        if self._records is not None:
            await self._records.record(self._records.event(caller, action, subject, fields=fields))
        return answer

    async def QueryEvents(
        self, request: pb.QueryEventsRequest, context: Context
    ) -> pb.QueryEventsResponse:
        async def serve(caller: AccessClaims) -> pb.QueryEventsResponse:
            page = await self._service.query(
                caller,
                filter_from_proto(request.filter),
                size=request.page_size,
                page_token=request.page_token,
            )
            return pb.QueryEventsResponse(
                events=page.events,
                next_page_token=page.next.encode() if page.next else "",
                cursors=[cursor_of(e) for e in page.events],
            )

        subject, criteria = _query_subject(request.filter)
        return await self._answer(pb.ACTION_QUERY_AUDIT_EVENTS, subject, serve, fields=criteria)

    async def VerifyChain(
        self, request: pb.VerifyChainRequest, context: Context
    ) -> pb.VerifyChainResponse:
        async def serve(caller: AccessClaims) -> pb.VerifyChainResponse:
            reports = await self._service.verify(caller, _producer(request.producer, optional=True))
            return pb.VerifyChainResponse(
                ok=all(r.verdict.ok for r in reports), reports=[report_to_proto(r) for r in reports]
            )

        return await self._answer(
            pb.ACTION_VERIFY_AUDIT_CHAINS, Subject.log(request.producer), serve
        )

    async def GetCheckpoint(
        self, request: pb.GetCheckpointRequest, context: Context
    ) -> pb.GetCheckpointResponse:
        async def serve(_: AccessClaims) -> pb.GetCheckpointResponse:
            signed = await self._tlog.checkpoint(_producer(request.producer))
            return pb.GetCheckpointResponse(
                checkpoint=signed.note,
                origin=signed.checkpoint.origin,
                tree_size=signed.checkpoint.size,
                root_hash=signed.checkpoint.root_hash,
                verifier_key=self._tlog.verifier_key,
            )

        return await self._answer(
            pb.ACTION_READ_AUDIT_CHECKPOINT, Subject.log(request.producer), serve
        )

    async def GetInclusionProof(
        self, request: pb.GetInclusionProofRequest, context: Context
    ) -> pb.GetInclusionProofResponse:
        async def serve(_: AccessClaims) -> pb.GetInclusionProofResponse:
            producer, sequence, proof, note = await self._tlog.inclusion(
                event_id=request.event_id,
                producer=_producer(request.producer, optional=True),
                sequence=request.sequence,
                tree_size=request.tree_size,
            )
            (stored,) = await self._tlog.events(producer, sequence - 1, 1)
            return pb.GetInclusionProofResponse(
                event=stored.event,
                leaf_index=proof.leaf_index,
                tree_size=proof.tree_size,
                hashes=list(proof.hashes),
                checkpoint=note,
            )

        return await self._answer(
            pb.ACTION_READ_INCLUSION_PROOF, Subject.log(request.producer), serve
        )

    async def BatchGetInclusionProofs(
        self, request: pb.BatchGetInclusionProofsRequest, context: Context
    ) -> pb.BatchGetInclusionProofsResponse:
        async def serve(_: AccessClaims) -> pb.BatchGetInclusionProofsResponse:
            if len(request.event_ids) > MAX_BATCH:
                raise InvalidArgument([FieldViolation("event_ids", f"at most {MAX_BATCH} at once")])
            proofs, notes = await self._tlog.batch_inclusion(list(request.event_ids))
            return pb.BatchGetInclusionProofsResponse(
                proofs=[
                    pb.InclusionProof(
                        event_id=event_id,
                        producer=producer,
                        leaf_index=proof.leaf_index,
                        tree_size=proof.tree_size,
                        hashes=list(proof.hashes),
                    )
                    for event_id, producer, proof in proofs
                ],
                checkpoints=notes,
            )

        return await self._answer(pb.ACTION_READ_INCLUSION_PROOF, Subject.log(), serve)

    async def GetConsistencyProof(
        self, request: pb.GetConsistencyProofRequest, context: Context
    ) -> pb.GetConsistencyProofResponse:
        async def serve(_: AccessClaims) -> pb.GetConsistencyProofResponse:
            proof, note = await self._tlog.consistency(
                _producer(request.producer), request.old_size, request.new_size
            )
            return pb.GetConsistencyProofResponse(
                old_size=proof.old_size,
                new_size=proof.new_size,
                hashes=list(proof.hashes),
                checkpoint=note,
            )

        return await self._answer(
            pb.ACTION_READ_CONSISTENCY_PROOF, Subject.log(request.producer), serve
        )

    async def ListChainEvents(
        self, request: pb.ListChainEventsRequest, context: Context
    ) -> pb.ListChainEventsResponse:
        async def serve(_: AccessClaims) -> pb.ListChainEventsResponse:
            size = min(request.page_size, 1000) if request.page_size > 0 else 500
            producer = _producer(request.producer)
            stored = await self._tlog.events(producer, request.after_sequence, size + 1)
            more = len(stored) > size
            events = [s.event for s in stored[:size]]
            first = not request.after_sequence
            conflicts = await self._tlog.conflicts(producer) if first else []
            return pb.ListChainEventsResponse(
                events=events,
                conflicts=conflicts,
                next_after_sequence=events[-1].sequence if more else 0,
            )

        return await self._answer(pb.ACTION_LIST_CHAIN_EVENTS, Subject.log(request.producer), serve)
