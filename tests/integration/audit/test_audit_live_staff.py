"""Every auditor query is checked live at identity: a demoted or suspended auditor's token
reads nothing from the ledger, and an identity that cannot be asked refuses (fail closed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
from audit_harness import Ledger, Metadata, rpc_error

from consilium.audit.v1 import audit_pb2 as pb
from consilium.identity.v1 import identity_pb2 as ipb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.auth import Role

Call = Callable[[Metadata], Awaitable[object]]


def auditor_calls(ledger: Ledger) -> list[Call]:
    """One of each kind of auditor RPC, made with the given token."""
    stub = ledger.stub
    return [
        lambda m: stub.QueryEvents(pb.QueryEventsRequest(), metadata=m),
        lambda m: stub.VerifyChain(pb.VerifyChainRequest(), metadata=m),
        lambda m: stub.GetCheckpoint(pb.GetCheckpointRequest(producer="anonymity"), metadata=m),
        lambda m: stub.ListChainEvents(pb.ListChainEventsRequest(producer="anonymity"), metadata=m),
        lambda m: stub.GetConsistencyProof(
            pb.GetConsistencyProofRequest(producer="anonymity"), metadata=m
        ),
        lambda m: stub.BatchGetInclusionProofs(pb.BatchGetInclusionProofsRequest(), metadata=m),
        lambda m: stub.GetInclusionProof(
            pb.GetInclusionProofRequest(producer="anonymity", sequence=1), metadata=m
        ),
    ]


async def identity_call(ledger: Ledger, method: str, request: object, admin: Metadata) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{ledger.identity.server.port}") as channel:
        await getattr(identity_pb2_grpc.IdentityServiceStub(channel), method)(
            request, metadata=admin
        )


async def refused_codes(ledger: Ledger, token: Metadata) -> set[grpc.StatusCode]:
    return {(await rpc_error(call(token))).code() for call in auditor_calls(ledger)}


async def test_a_demoted_auditor_reads_nothing(ledger: Ledger) -> None:
    producer = ledger.producer()
    await ledger.ingest(producer.next())
    auditor_id, auditor = await ledger.staff(Role.AUDITOR)
    reply = await ledger.stub.QueryEvents(pb.QueryEventsRequest(), metadata=auditor)
    assert len(reply.events) == 1
    _, admin = await ledger.staff(Role.ADMIN)
    await identity_call(
        ledger, "SetRoles", ipb.SetRolesRequest(user_id=auditor_id, roles=[]), admin
    )
    # The token still says AUDITOR; identity no longer does.
    assert await refused_codes(ledger, auditor) == {grpc.StatusCode.PERMISSION_DENIED}


async def test_a_suspended_auditor_reads_nothing(ledger: Ledger) -> None:
    auditor_id, auditor = await ledger.staff(Role.AUDITOR)
    await ledger.stub.VerifyChain(pb.VerifyChainRequest(), metadata=auditor)
    _, admin = await ledger.staff(Role.ADMIN)
    request = ipb.SuspendPhysicianRequest(user_id=auditor_id, reason="left the company")
    await identity_call(ledger, "SuspendPhysician", request, admin)
    error = await rpc_error(ledger.stub.VerifyChain(pb.VerifyChainRequest(), metadata=auditor))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "suspended" in (error.details() or "")
    assert await refused_codes(ledger, auditor) == {grpc.StatusCode.PERMISSION_DENIED}


async def test_identity_down_refuses_every_auditor_query(ledger: Ledger) -> None:
    _, auditor = await ledger.staff(Role.AUDITOR)
    await ledger.stub.QueryEvents(pb.QueryEventsRequest(), metadata=auditor)  # keys fetched
    await ledger.identity.server.stop()
    assert await refused_codes(ledger, auditor) == {grpc.StatusCode.UNAVAILABLE}
