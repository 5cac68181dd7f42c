"""Client of the audit service: the ledger's events, chain verification, checkpoints and proofs."""

from __future__ import annotations

from consilium.audit.v1 import audit_pb2 as pb
from consilium.audit.v1 import audit_pb2_grpc
from gateway.clients.base import Metadata, UpstreamClient, invoke

_SERVICE = "consilium.audit.v1.AuditService"
_IDEMPOTENT = ("QueryEvents", "VerifyChain", "GetCheckpoint", "BatchGetInclusionProofs")
#: The most event ids one BatchGetInclusionProofs call may name (the audit service's maximum).
MAX_PROOF_BATCH = 200


class AuditClient(UpstreamClient):
    service = _SERVICE
    idempotent = _IDEMPOTENT
    stub_class = audit_pb2_grpc.AuditServiceStub
    _stub: audit_pb2_grpc.AuditServiceAsyncStub

    async def query(
        self, where: pb.EventFilter, first: int, after: str, metadata: Metadata
    ) -> pb.QueryEventsResponse:
        request = pb.QueryEventsRequest(filter=where, page_size=first, page_token=after)
        return await invoke(self._stub.QueryEvents, request, metadata)

    async def verify(self, producer: str, metadata: Metadata) -> pb.VerifyChainResponse:
        request = pb.VerifyChainRequest(producer=producer)
        return await invoke(self._stub.VerifyChain, request, metadata)

    async def checkpoint(self, producer: str, metadata: Metadata) -> pb.GetCheckpointResponse:
        request = pb.GetCheckpointRequest(producer=producer)
        return await invoke(self._stub.GetCheckpoint, request, metadata)

    async def inclusion_proofs(
        self, event_ids: list[str], metadata: Metadata
    ) -> pb.BatchGetInclusionProofsResponse:
        request = pb.BatchGetInclusionProofsRequest(event_ids=event_ids)
        return await invoke(self._stub.BatchGetInclusionProofs, request, metadata)
