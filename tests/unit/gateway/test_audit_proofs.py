"""AuditEvent.inclusionProof: one BatchGetInclusionProofs call serves a whole page of events."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from consilium.audit.v1 import audit_pb2 as pb
from gateway.auth import Authentication, Viewer
from gateway.clients.base import Metadata
from gateway.context import GatewayContext
from gateway.limits.policy import GatewayLimits
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings
from plumbing.auth import AccessClaims, Role, VerificationStatus

PAGE = """{ auditEvents(first: 50) { nodes { id
  inclusionProof { leafIndex treeSize hashes checkpoint } } } }"""


class FakeAudit:
    """A ledger of `count` events of which the first `in_log` are in the signed log."""

    def __init__(self, count: int, in_log: int) -> None:
        self.events = [
            pb.AuditEvent(event_id=f"evt_{i}", producer="anonymity", sequence=i + 1)
            for i in range(count)
        ]
        self.in_log = in_log
        self.proof_calls: list[list[str]] = []

    async def query(self, where: Any, first: int, after: str, metadata: Metadata) -> Any:
        return pb.QueryEventsResponse(events=self.events[:first])

    async def inclusion_proofs(self, event_ids: list[str], metadata: Metadata) -> Any:
        assert ("authorization", "Bearer auditor-token") in metadata
        self.proof_calls.append(list(event_ids))
        proofs = [
            pb.InclusionProof(
                event_id=e.event_id,
                producer=e.producer,
                leaf_index=e.sequence - 1,
                tree_size=self.in_log,
                hashes=[bytes([e.sequence]) * 32],
            )
            for e in self.events[: self.in_log]
            if e.event_id in event_ids
        ]
        return pb.BatchGetInclusionProofsResponse(
            proofs=proofs, checkpoints={"anonymity": "consilium.audit/anonymity\n..."}
        )


class Upstreams:
    def __init__(self, audit: FakeAudit) -> None:
        self.audit = audit


def context(audit: FakeAudit) -> GatewayContext:
    now = datetime.now(UTC)
    claims = AccessClaims(
        user_id="usr_auditor",
        roles=frozenset({Role.MEMBER, Role.AUDITOR}),
        verification=VerificationStatus.VERIFIED,
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        key_id="k",
    )
    return GatewayContext(
        request=None,  # type: ignore[arg-type]
        response=None,
        auth=Authentication(viewer=Viewer(claims, "auditor-token")),
        upstreams=Upstreams(audit),  # type: ignore[arg-type]
        loaders=None,  # type: ignore[arg-type]
        settings=GatewaySettings(),
        feed=None,  # type: ignore[arg-type]
        client_address="192.0.2.1",
        limits=GatewayLimits.from_settings(GatewaySettings()),
    )


async def test_a_page_of_proofs_is_one_batched_call() -> None:
    audit = FakeAudit(count=30, in_log=25)
    result = await build_schema(GatewaySettings()).execute(PAGE, context_value=context(audit))
    assert result.errors is None, result.errors
    nodes = result.data["auditEvents"]["nodes"]  # type: ignore[index]
    assert audit.proof_calls == [[f"evt_{i}" for i in range(30)]]
    assert [n["inclusionProof"] is not None for n in nodes] == [True] * 25 + [False] * 5
    proof = nodes[3]["inclusionProof"]
    assert (proof["leafIndex"], proof["treeSize"]) == (3, 25)
    assert proof["hashes"] == [base64.b64encode(bytes([4]) * 32).decode()]
    assert proof["checkpoint"].startswith("consilium.audit/anonymity\n")


async def test_no_proof_call_unless_asked() -> None:
    audit = FakeAudit(count=5, in_log=5)
    query = "{ auditEvents { nodes { id } } }"
    result = await build_schema(GatewaySettings()).execute(query, context_value=context(audit))
    assert result.errors is None, result.errors
    assert audit.proof_calls == []
