"""The auditor's client of the ledger: an auditor's token, the audit address, plain RPCs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc

from consilium.audit.v1 import audit_pb2 as pb
from consilium.audit.v1 import audit_pb2_grpc
from plumbing.grpc.caller import bearer_metadata

DEFAULT_ADDRESS = "127.0.0.1:50054"


@dataclass
class LedgerClient:
    stub: audit_pb2_grpc.AuditServiceAsyncStub
    metadata: tuple[tuple[str, str], ...]

    async def verify_chain(self) -> pb.VerifyChainResponse:
        return await self.stub.VerifyChain(pb.VerifyChainRequest(), metadata=self.metadata)

    async def checkpoint(self, producer: str) -> pb.GetCheckpointResponse:
        return await self.stub.GetCheckpoint(
            pb.GetCheckpointRequest(producer=producer), metadata=self.metadata
        )

    async def consistency(
        self, producer: str, old_size: int, new_size: int
    ) -> pb.GetConsistencyProofResponse:
        request = pb.GetConsistencyProofRequest(
            producer=producer, old_size=old_size, new_size=new_size
        )
        return await self.stub.GetConsistencyProof(request, metadata=self.metadata)

    async def chain(self, producer: str) -> tuple[list[pb.AuditEvent], list[pb.AuditEvent]]:
        """(events in the order served, conflicting claims) of one producer."""
        events: list[pb.AuditEvent] = []
        conflicts: list[pb.AuditEvent] = []
        after = 0
        while True:
            reply = await self.stub.ListChainEvents(
                pb.ListChainEventsRequest(producer=producer, after_sequence=after, page_size=1000),
                metadata=self.metadata,
            )
            events.extend(reply.events)
            conflicts.extend(reply.conflicts)
            if not reply.next_after_sequence:
                return events, conflicts
            after = reply.next_after_sequence

    async def by_trace(self, trace_id: str) -> list[pb.AuditEvent]:
        events: list[pb.AuditEvent] = []
        token = ""
        while True:
            reply = await self.stub.QueryEvents(
                pb.QueryEventsRequest(
                    filter=pb.EventFilter(trace_id=trace_id), page_size=200, page_token=token
                ),
                metadata=self.metadata,
            )
            events.extend(reply.events)
            if not reply.next_page_token:
                return events
            token = reply.next_page_token


@asynccontextmanager
async def connect(address: str, token: str) -> AsyncIterator[LedgerClient]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub: audit_pb2_grpc.AuditServiceAsyncStub = audit_pb2_grpc.AuditServiceStub(channel)
        yield LedgerClient(stub, bearer_metadata(token))
