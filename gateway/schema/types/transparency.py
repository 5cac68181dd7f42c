"""The ledger's transparency log for auditors: signed checkpoints and inclusion proofs (A2).

Bytes (root hashes, proof hashes) travel base64-encoded (standard alphabet, padded), as in
the signed note itself, so an auditor can check a proof against a checkpoint with any
RFC 6962 / C2SP tlog-checkpoint tool.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import strawberry
from strawberry.dataloader import DataLoader

from consilium.audit.v1 import audit_pb2 as pb
from gateway.clients.audit import MAX_PROOF_BATCH, AuditClient
from gateway.clients.base import Metadata


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@strawberry.type(
    description="A signed checkpoint (C2SP tlog-checkpoint) of one producer's log: the ledger "
    "commits to the first `size` events of that producer with this root hash."
)
class AuditCheckpoint:
    origin: str = strawberry.field(description="The log's name, `consilium.audit/<producer>`.")
    size: int = strawberry.field(description="How many events the log holds.")
    root_hash: str = strawberry.field(description="RFC 6962 Merkle tree root, base64.")
    note: str = strawberry.field(
        description="The signed note, verbatim: origin, size and root hash lines, a blank "
        "line, then the ledger's Ed25519 signature line. Check it with a ledger key you "
        "pinned (e.g. with `consilium audit verify --state FILE`), not with `verifierKey`."
    )
    verifier_key: str = strawberry.field(
        description="The ledger's note verifier key (`<name>+<hash>+<base64 key>`), for "
        "first contact only."
    )

    @classmethod
    def from_proto(cls, reply: pb.GetCheckpointResponse) -> AuditCheckpoint:
        return cls(
            origin=reply.origin,
            size=reply.tree_size,
            root_hash=_b64(reply.root_hash),
            note=reply.checkpoint,
            verifier_key=reply.verifier_key,
        )


@strawberry.type(
    description="That one event is leaf `leafIndex` of its producer's log of `treeSize` "
    "events (RFC 6962 inclusion proof). The leaf is SHA-256(0x00 || the event's stored bytes)."
)
class AuditInclusionProof:
    leaf_index: int = strawberry.field(description="The event's sequence minus one.")
    tree_size: int = strawberry.field(description="The size of the log the proof is for.")
    hashes: list[str] = strawberry.field(
        description="The audit path, base64, in RFC 9162 order (leaf side first)."
    )
    checkpoint: str | None = strawberry.field(
        description="The signed checkpoint of `treeSize` the proof leads to (a signed note)."
    )

    @classmethod
    def from_proto(cls, proof: pb.InclusionProof, checkpoint: str) -> AuditInclusionProof:
        return cls(
            leaf_index=proof.leaf_index,
            tree_size=proof.tree_size,
            hashes=[_b64(h) for h in proof.hashes],
            checkpoint=checkpoint or None,
        )


ProofLoader = DataLoader[str, AuditInclusionProof | None]


def inclusion_proof_loader(audit: AuditClient, metadata: Metadata) -> ProofLoader:
    """Inclusion proofs by event id, one BatchGetInclusionProofs call per page of events.

    Made by `auditEvents` for the page it returns and shared by that page's events, so it
    lives no longer than the request and carries that auditor's token only. Events not yet
    in the log (ingested after the newest checkpoint was signed) get None.
    """

    async def load(event_ids: Sequence[str]) -> list[AuditInclusionProof | None]:
        unique = list(dict.fromkeys(event_ids))
        reply = await audit.inclusion_proofs(unique, metadata)
        found = {p.event_id: p for p in reply.proofs}
        return [
            AuditInclusionProof.from_proto(found[e], reply.checkpoints.get(found[e].producer, ""))
            if e in found
            else None
            for e in event_ids
        ]

    return DataLoader(load_fn=load, max_batch_size=MAX_PROOF_BATCH)
