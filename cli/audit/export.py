"""`consilium audit export`: JSON lines an external auditor verifies with no access to us.

    {"type": "checkpoint", "producer": P, "origin": O, "checkpoint": "<signed note>"}
    {"type": "event", "producer": P, "sequence": n, "event_id": ..., "bytes": "<base64>",
     "fields": {...decoded...}, "inclusion": {"leaf_index": n-1, "tree_size": N, "hashes": [...]}}

One checkpoint line per producer, then its events 1..N in order, each with its inclusion proof
in that checkpoint. `bytes` is the event exactly as signed and logged (the leaf data); `fields`
is for reading and is checked against `bytes` by tools/verify_audit_export.py. Proofs are
computed here from the events served, and the export is refused unless those events hash to
the ledger's signed checkpoint, so a proof in the file is one the checkpoint vouches for.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from google.protobuf.json_format import MessageToDict

from cli.audit.findings import Finding, canonical, log_findings
from cli.audit.ledger import LedgerClient
from cli.audit.verify import open_producer_checkpoint
from consilium.audit.v1 import audit_pb2 as pb
from plumbing.tlog import InclusionProof, MerkleTree, NoteError, NoteVerifier, leaf_hash
from services.audit.transparency import origin_of


def fields_of(event: pb.AuditEvent) -> dict[str, Any]:
    return MessageToDict(event, preserving_proto_field_name=True)


async def export_lines(
    client: LedgerClient, producers: list[str], verifier: NoteVerifier | None
) -> tuple[list[str], list[Finding]]:
    """The export's lines, or findings that made it refuse a producer's log."""
    lines: list[str] = []
    refused: list[Finding] = []
    for name in producers:
        reply = await client.checkpoint(name)
        try:
            checkpoint = open_producer_checkpoint(
                reply.checkpoint, name, verifier or NoteVerifier.from_vkey(reply.verifier_key)
            )
        except NoteError as exc:
            refused.append(Finding(name, "BAD_CHECKPOINT", str(exc)))
            continue
        events, _ = await client.chain(name)
        by_sequence = {int(e.sequence): e for e in events}
        problems = log_findings(name, events, checkpoint)
        if problems or any(s not in by_sequence for s in range(1, checkpoint.size + 1)):
            refused.extend(
                problems or [Finding(name, "GAP", "events under the checkpoint are missing")]
            )
            continue
        logged = [by_sequence[s] for s in range(1, checkpoint.size + 1)]
        tree = MerkleTree(leaf_hash(canonical(e)) for e in logged)
        lines.append(
            json.dumps(
                {
                    "type": "checkpoint",
                    "producer": name,
                    "origin": origin_of(name),
                    "checkpoint": reply.checkpoint,
                }
            )
        )
        lines.extend(_event_lines(name, logged, tree))
    return lines, refused


def _event_lines(name: str, logged: list[pb.AuditEvent], tree: MerkleTree) -> Iterator[str]:
    for index, event in enumerate(logged):
        yield json.dumps(
            {
                "type": "event",
                "producer": name,
                "sequence": int(event.sequence),
                "event_id": event.event_id,
                "bytes": base64.b64encode(canonical(event)).decode(),
                "fields": fields_of(event),
                "inclusion": InclusionProof.of(tree, index).to_json(),
            },
            sort_keys=True,
        )
