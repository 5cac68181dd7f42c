"""The AuditService gRPC servicer: convert, call the use case, convert.

Every RPC first checks the caller: an AUDITOR token, then the same account's current
standing at identity (`LiveStaffCheck`, CheckActor with audit's own service credential),
so a demoted or suspended auditor reads nothing more (issue 10, finding 3). If identity
cannot be asked, the query is refused with UNAVAILABLE (fail closed).
"""

from __future__ import annotations

import re
from typing import Any

from consilium.audit.v1 import audit_pb2 as pb
from consilium.audit.v1 import audit_pb2_grpc
from plumbing.auth import AccessClaims, Role
from plumbing.auth.live import LiveStaffCheck
from plumbing.auth.remote import RemoteTokenVerifier
from plumbing.errors import FieldViolation, InvalidArgument
from plumbing.grpc.caller import caller_token
from services.audit.adapters.converters import cursor_of, filter_from_proto, report_to_proto
from services.audit.domain.query import require_auditor
from services.audit.service import AuditService
from services.audit.transparency import TransparencyLog

Context = Any  # grpc.aio.ServicerContext; unused beyond the signature

MAX_BATCH = 200
#: A producer name: it becomes a log origin (`consilium.audit/<producer>`), one note line.
_PRODUCER = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def _producer(value: str, *, optional: bool = False) -> str:
    if (optional and not value) or _PRODUCER.fullmatch(value):
        return value
    raise InvalidArgument(
        [FieldViolation("producer", "a producer name, e.g. identity (a-z, 0-9, '.', '_', '-')")]
    )


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    """Adapts gRPC calls to `AuditService`; the caller comes from the bearer token."""

    def __init__(
        self,
        service: AuditService,
        tokens: RemoteTokenVerifier,
        tlog: TransparencyLog,
        live: LiveStaffCheck | None = None,
    ) -> None:
        self._service = service
        self._tokens = tokens
        self._tlog = tlog
        self._live = live

    async def _auditor(self) -> AccessClaims:
        """The caller, if their token says AUDITOR and identity still agrees right now."""
        caller = require_auditor(await self._tokens.claims(caller_token()))
        if self._live is not None:
            await self._live.require(caller, Role.AUDITOR)
        return caller

    async def QueryEvents(
        self, request: pb.QueryEventsRequest, context: Context
    ) -> pb.QueryEventsResponse:
        # Refused before the filter is read: a non-auditor learns nothing, not even about it.
        caller = await self._auditor()
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

    async def VerifyChain(
        self, request: pb.VerifyChainRequest, context: Context
    ) -> pb.VerifyChainResponse:
        reports = await self._service.verify(await self._auditor(), request.producer)
        return pb.VerifyChainResponse(
            ok=all(r.verdict.ok for r in reports), reports=[report_to_proto(r) for r in reports]
        )

    async def GetCheckpoint(
        self, request: pb.GetCheckpointRequest, context: Context
    ) -> pb.GetCheckpointResponse:
        await self._auditor()
        signed = await self._tlog.checkpoint(_producer(request.producer))
        return pb.GetCheckpointResponse(
            checkpoint=signed.note,
            origin=signed.checkpoint.origin,
            tree_size=signed.checkpoint.size,
            root_hash=signed.checkpoint.root_hash,
            verifier_key=self._tlog.verifier_key,
        )

    async def GetInclusionProof(
        self, request: pb.GetInclusionProofRequest, context: Context
    ) -> pb.GetInclusionProofResponse:
        await self._auditor()
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

    async def BatchGetInclusionProofs(
        self, request: pb.BatchGetInclusionProofsRequest, context: Context
    ) -> pb.BatchGetInclusionProofsResponse:
        await self._auditor()
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

    async def GetConsistencyProof(
        self, request: pb.GetConsistencyProofRequest, context: Context
    ) -> pb.GetConsistencyProofResponse:
        await self._auditor()
        proof, note = await self._tlog.consistency(
            _producer(request.producer), request.old_size, request.new_size
        )
        return pb.GetConsistencyProofResponse(
            old_size=proof.old_size,
            new_size=proof.new_size,
            hashes=list(proof.hashes),
            checkpoint=note,
        )

    async def ListChainEvents(
        self, request: pb.ListChainEventsRequest, context: Context
    ) -> pb.ListChainEventsResponse:
        await self._auditor()
        size = min(request.page_size, 1000) if request.page_size > 0 else 500
        producer = _producer(request.producer)
        stored = await self._tlog.events(producer, request.after_sequence, size + 1)
        more = len(stored) > size
        events = [s.event for s in stored[:size]]
        conflicts = await self._tlog.conflicts(producer) if not request.after_sequence else []
        return pb.ListChainEventsResponse(
            events=events,
            conflicts=conflicts,
            next_after_sequence=events[-1].sequence if more else 0,
        )
