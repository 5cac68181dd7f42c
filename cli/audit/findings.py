"""The auditor's own judgement of one producer's events: nothing here trusts the ledger.

Given the events as served (or as read from the topic), the keys the auditor pinned, the
checkpoint the ledger signed and the one the auditor kept, it names every fault: gaps,
modified, reordered, forged and duplicate events, keys of the wrong producer, a tail cut off
under a checkpoint, events that are not what a checkpoint committed to, and a ledger rolled
back behind a checkpoint the auditor saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from plumbing.auditchain import ChainVerdict, verify_chain
from plumbing.tlog import Checkpoint, leaf_hash, root_hash
from services.audit.domain.producers import ProducerPins

#: The ledger's own producer, whose chain records every auditor query (this tool's included).
LEDGER_PRODUCER = "audit"
#: What the chain verifier's kinds mean to an auditor.
LABELS = {
    "HASH_MISMATCH": "MODIFIED",
    "BROKEN_LINK": "REORDERED_OR_DELETED",
    "BAD_SIGNATURE": "FORGED",
    "UNKNOWN_KEY": "FORGED_UNKNOWN_KEY",
    "DUPLICATE_SEQUENCE": "DUPLICATE",
}


@dataclass(frozen=True, slots=True)
class Finding:
    producer: str
    kind: str
    detail: str

    def line(self) -> str:
        return f"FAIL {self.producer}: {self.kind}: {self.detail}"


def canonical(event: Any) -> bytes:
    """The leaf data of an event in the ledger's log: its deterministic protobuf bytes."""
    data: bytes = event.SerializeToString(deterministic=True)
    return data


def chain_findings(
    producer: str,
    events: Sequence[Any],
    keys: Mapping[str, Ed25519PublicKey],
    pins: ProducerPins,
    signers: Mapping[str, set[str]],
    verdict: ChainVerdict | None = None,
) -> list[Finding]:
    """Gaps and per-event faults of one chain, keys held to the producer they are pinned to
    (or that its chain rotated to); `verdict` is `verify_chain(events, keys)` if at hand."""
    found: list[Finding] = []
    served = [int(e.sequence) for e in events]
    if served != sorted(served):
        found.append(Finding(producer, "REORDERED", "events are not served in sequence order"))
    verdict = verdict or verify_chain(events, keys)
    for first, last in verdict.gaps:
        span = f"{first}" if first == last else f"{first}-{last}"
        found.append(Finding(producer, "GAP", f"events {span} are missing"))
    for problem in verdict.problems:
        label = LABELS.get(problem.kind, problem.kind)
        found.append(Finding(producer, label, f"{problem.detail} (event {problem.event_id})"))
    for event in events:
        kid = str(event.key_id)
        if pins.configured and not pins.allows(producer, kid) and kid not in verdict.rotated_keys:
            owner = pins.owner(kid)
            whose = f"pinned to {owner!r}" if owner else f"not pinned to {producer!r}"
            found.append(
                Finding(
                    producer,
                    "WRONG_PRODUCER_KEY",
                    f"event {event.sequence} is signed with key {kid}, {whose}",
                )
            )
        elif len(signers.get(kid, set()) | {producer}) > 1:
            others = ", ".join(sorted(signers[kid] - {producer}))
            found.append(
                Finding(
                    producer,
                    "WRONG_PRODUCER_KEY",
                    f"event {event.sequence}'s key {kid} also signs {others}",
                )
            )
    return found


def log_findings(producer: str, events: Sequence[Any], checkpoint: Checkpoint) -> list[Finding]:
    """Whether the events served are exactly the first `size` leaves the checkpoint signs."""
    by_sequence: dict[int, Any] = {}
    for event in events:
        by_sequence.setdefault(int(event.sequence), event)
    highest = max(by_sequence, default=0)
    if highest < checkpoint.size:
        return [
            Finding(
                producer,
                "TRUNCATED",
                f"the signed checkpoint holds {checkpoint.size} events, only {highest} are served",
            )
        ]
    wanted = range(1, checkpoint.size + 1)
    if any(s not in by_sequence for s in wanted):
        return []  # the gap is named already; a root over a hole proves nothing more
    root = root_hash([leaf_hash(canonical(by_sequence[s])) for s in wanted])
    if root != checkpoint.root_hash:
        return [
            Finding(
                producer,
                "LOG_MISMATCH",
                f"the events served do not hash to the signed checkpoint of {checkpoint.size}",
            )
        ]
    return []


def producer_findings(
    pins: ProducerPins, present: Sequence[str], kept: Sequence[str]
) -> list[Finding]:
    """Configured producers with no events, events of producers nobody configured."""
    found = []
    for name in pins.producers:
        # The ledger's own chain holds auditors' queries: none yet is no fault, unless a
        # checkpoint of it was kept (below).
        if name not in present and name != LEDGER_PRODUCER:
            found.append(
                Finding(name, "MISSING_PRODUCER", "configured, but the ledger holds no events")
            )
    if pins.configured:
        for name in present:
            if name not in pins.pins:
                found.append(
                    Finding(name, "UNKNOWN_PRODUCER", "events of an unconfigured producer")
                )
    for name in kept:
        if name not in present and (name not in pins.producers or name == LEDGER_PRODUCER):
            found.append(
                Finding(name, "MISSING_PRODUCER", "the auditor kept a checkpoint of it; now gone")
            )
    return found
