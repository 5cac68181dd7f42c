"""The AuditService gRPC servicer: convert, call the use case, convert."""

from __future__ import annotations

from typing import Any

from consilium.audit.v1 import audit_pb2 as pb
from consilium.audit.v1 import audit_pb2_grpc
from plumbing.auth import AccessClaims
from plumbing.auth.remote import RemoteTokenVerifier
from plumbing.grpc.caller import caller_token
from services.audit.adapters.converters import filter_from_proto, report_to_proto
from services.audit.domain.query import require_auditor
from services.audit.service import AuditService

Context = Any  # grpc.aio.ServicerContext; unused beyond the signature


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    """Adapts gRPC calls to `AuditService`; the caller comes from the bearer token."""

    def __init__(self, service: AuditService, tokens: RemoteTokenVerifier) -> None:
        self._service = service
        self._tokens = tokens

    async def _caller(self) -> AccessClaims | None:
        return await self._tokens.claims(caller_token())

    async def QueryEvents(
        self, request: pb.QueryEventsRequest, context: Context
    ) -> pb.QueryEventsResponse:
        # Refused before the filter is read: a non-auditor learns nothing, not even about it.
        caller = require_auditor(await self._caller())
        page = await self._service.query(
            caller,
            filter_from_proto(request.filter),
            size=request.page_size,
            page_token=request.page_token,
        )
        return pb.QueryEventsResponse(
            events=page.events, next_page_token=page.next.encode() if page.next else ""
        )

    async def VerifyChain(
        self, request: pb.VerifyChainRequest, context: Context
    ) -> pb.VerifyChainResponse:
        reports = await self._service.verify(await self._caller(), request.producer)
        return pb.VerifyChainResponse(
            ok=all(r.verdict.ok for r in reports), reports=[report_to_proto(r) for r in reports]
        )
