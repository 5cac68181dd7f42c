"""Anonymity serves its signed audit chain head to auditors, who carry no service credential:
GetAuditHead alone is let past the policy that admits only the gateway, and it checks the
caller's AUDITOR role live at identity."""

from __future__ import annotations

import grpc
from anonymity_harness import Stack, rpc_error

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.anonymity.v1 import anonymity_pb2_grpc
from consilium.audit.v1 import audit_pb2 as apb
from consilium.audit.v1 import audit_pb2_grpc
from plumbing.audithead import head_problem
from plumbing.auth import Role
from plumbing.signingkeys import parse_public_key


async def test_an_auditor_reads_the_head_and_nothing_else_opens(stack: Stack) -> None:
    auditor = await stack.staff(Role.AUDITOR)
    member = await stack.physician()
    data_dir = stack.instance.settings.data_dir
    keys = {
        path.stem: parse_public_key(path.read_bytes(), origin=path.name)
        for path in (data_dir / "audit" / "trusted-keys").glob("*.pem")
    }
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.instance.server.port}") as channel:
        heads = audit_pb2_grpc.AuditHeadServiceStub(channel)
        reply = await heads.GetAuditHead(apb.GetAuditHeadRequest(), metadata=auditor.metadata)
        refused = await rpc_error(
            heads.GetAuditHead(apb.GetAuditHeadRequest(), metadata=member.metadata)
        )
        # The exemption is GetAuditHead's alone: the auditor's token opens no other method.
        other = await rpc_error(
            anonymity_pb2_grpc.AnonymityServiceStub(channel).CreateThreadScope(
                pb.CreateThreadScopeRequest(), metadata=auditor.metadata
            )
        )

    assert reply.head.producer == "anonymity"
    assert head_problem(reply.head, "anonymity", keys) == ""
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    assert other.code() == grpc.StatusCode.UNAUTHENTICATED
