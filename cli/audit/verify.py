"""`consilium audit verify`: the auditor's own verification, from the ledger or the topic.

From the ledger it fetches every producer's events as stored (ListChainEvents), checks chains
and signatures against keys the auditor pinned, holds the events against the ledger's signed
checkpoint, demands a consistency proof from every checkpoint kept in `--state`, and adds the
ledger's own findings (VerifyChain: e.g. edited index columns, which only the ledger's
database shows). From the topic it checks the chains as producers published them, and holds
them against the kept checkpoints. Either way, given the producers' signed heads
(`cli.audit.heads`), it holds every chain to its producer's own word of its length. Every fault
is one line naming it; any fault exits 1.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cli.audit.findings import (
    LEDGER_PRODUCER,
    Finding,
    chain_findings,
    log_findings,
    producer_findings,
)
from cli.audit.heads import head_findings, head_keys
from cli.audit.ledger import LedgerClient
from cli.audit.state import AuditorState
from consilium.audit.v1 import audit_pb2 as pb
from consilium.events.v1 import audit_events_pb2 as epb
from plumbing.auditchain import ChainVerdict, verify_chain
from plumbing.events.bus import EventBus
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS
from plumbing.tlog import (
    Checkpoint,
    ConsistencyProof,
    NoteError,
    NoteVerifier,
    ProofError,
    open_checkpoint,
)
from services.audit.adapters.trusted_keys import load_keys
from services.audit.domain.producers import ProducerPins
from services.audit.transparency import origin_of

_HEAD_TYPE = epb.AuditHeadSigned.DESCRIPTOR.full_name


@dataclass
class Trust:
    """What the auditor pinned: producers and their keys, and the ledger's checkpoint key."""

    pins: ProducerPins
    keys: dict[str, Ed25519PublicKey]
    ledger_key: str = ""
    #: The dev ledger's own record of its key: a convenience on first use, never over a pin.
    dev_ledger_key: str = ""

    @classmethod
    def of(
        cls, pins: ProducerPins, trusted_keys_dir: Path, ledger_key: str, dev_ledger_key: str = ""
    ) -> Trust:
        keys = load_keys(trusted_keys_dir)
        if pins.configured:
            pinned = {k for kids in pins.pins.values() for k in kids}
            keys = {k: v for k, v in keys.items() if k in pinned}
        return cls(pins, {**keys, **pins.inline_keys}, ledger_key, dev_ledger_key)

    def vkey(self, state: AuditorState) -> str:
        """The ledger key to hold checkpoints to: pinned, else kept, else the dev file's."""
        return self.ledger_key or state.ledger_key or self.dev_ledger_key


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checkpoints: dict[str, str] = field(default_factory=dict)
    ledger_key: str = ""

    def add(self, found: Sequence[Finding]) -> None:
        for finding in found:
            if finding not in self.findings:
                self.findings.append(finding)


def _signers(chains: Mapping[str, Sequence[Any]]) -> dict[str, set[str]]:
    signers: dict[str, set[str]] = defaultdict(set)
    for producer, events in chains.items():
        for event in events:
            signers[str(event.key_id)].add(producer)
    return signers


def open_producer_checkpoint(note: str, producer: str, verifier: NoteVerifier) -> Checkpoint:
    checkpoint, _ = open_checkpoint(note, origin=origin_of(producer), verifier=verifier)
    return checkpoint


def expected_heads(trust: Trust, present: Sequence[str], heads: Heads) -> list[str]:
    """Producers that must show a head: those asked for, those that sent one, and those
    pinned, else (dev) those with events."""
    asked = {*heads.expected, *heads.heads, *(f.producer for f in heads.findings)}
    # The ledger's own chain has no producer apart from the ledger: kept checkpoints hold it.
    return sorted((asked | set(trust.pins.producers or present)) - {LEDGER_PRODUCER})


async def verify_ledger(
    client: LedgerClient,
    trust: Trust,
    state: AuditorState,
    *,
    only: Sequence[str] = (),
    heads: Heads | None = None,
) -> Outcome:
    """Every producer the ledger, the pins or the kept state name (just `only`, if given);
    `heads` are the producers' signed heads with where they came from (None: not checked)."""
    outcome = Outcome()
    report = await client.verify_chain()
    for chain in report.reports:
        if only and chain.producer not in only:
            continue
        for problem in chain.problems:
            kind = pb.ProblemKind.Name(problem.kind).removeprefix("PROBLEM_KIND_")
            outcome.add([Finding(chain.producer, kind, f"(ledger) {problem.detail}")])
    names = {r.producer for r in report.reports} | set(trust.pins.producers)
    names |= set(state.checkpoints) | {LEDGER_PRODUCER}  # always expected: our queries
    if heads is not None:
        names |= set(expected_heads(trust, [], heads))
    if only:
        names &= set(only)
    # Checkpoints before chains: the ledger's own chain ("audit") grows with every query,
    # these included, so only events fetched after a checkpoint was signed cover it.
    replies = {name: await client.checkpoint(name) for name in sorted(names)}
    chains: dict[str, list[pb.AuditEvent]] = {}
    conflicts: dict[str, list[pb.AuditEvent]] = {}
    for name in sorted(names):
        chains[name], conflicts[name] = await client.chain(name)
    signers = _signers(chains)
    present = [name for name, events in chains.items() if events]
    outcome.add(producer_findings(trust.pins, present, list(state.checkpoints)))
    expected = expected_heads(trust, present, heads) if heads is not None else []
    for name in sorted(names):
        events = chains[name]
        every = [*events, *conflicts[name]]
        verdict = verify_chain(every, trust.keys)
        outcome.add(chain_findings(name, every, trust.keys, trust.pins, signers, verdict))
        reply = replies[name]
        vkey = trust.vkey(state) or reply.verifier_key
        if not trust.vkey(state):
            outcome.notes.append(f"trusting the ledger key on first use: {vkey}")
        outcome.ledger_key = vkey
        verifier = NoteVerifier.from_vkey(vkey)
        try:
            checkpoint: Checkpoint | None = open_producer_checkpoint(
                reply.checkpoint, name, verifier
            )
        except NoteError as exc:
            outcome.add([Finding(name, "BAD_CHECKPOINT", str(exc))])
            checkpoint = None
        if heads is not None and name in expected:
            outcome.add(_head_findings(name, events, verdict, trust, heads, checkpoint))
        if checkpoint is None:
            continue
        outcome.add(log_findings(name, events, checkpoint))
        outcome.add(await _against_kept(client, name, checkpoint, state, verifier))
        outcome.checkpoints[name] = reply.checkpoint
        outcome.notes.append(
            f"{name}: {len(events)} events, checkpoint {checkpoint.size} "
            f"{checkpoint.root_hash.hex()[:16]}"
        )
    return outcome


@dataclass
class Heads:
    """The producers' signed heads, where they came from, and what fetching them found."""

    heads: dict[str, pb.SignedHead]
    source: str = "producer"
    findings: list[Finding] = field(default_factory=list)
    #: Producers whose heads were asked for (a missing one is a finding).
    expected: list[str] = field(default_factory=list)


def _head_findings(
    name: str,
    events: Sequence[Any],
    verdict: ChainVerdict,
    trust: Trust,
    heads: Heads,
    checkpoint: Checkpoint | None,
) -> list[Finding]:
    if name not in heads.heads and any(f.producer == name for f in heads.findings):
        return [f for f in heads.findings if f.producer == name]
    return head_findings(
        name,
        heads.heads.get(name),
        events,
        head_keys(name, trust.pins, trust.keys, verdict),
        checkpoint_size=checkpoint.size if checkpoint is not None else None,
        source=heads.source,
    )


async def _against_kept(
    client: LedgerClient,
    name: str,
    checkpoint: Checkpoint,
    state: AuditorState,
    verifier: NoteVerifier,
) -> list[Finding]:
    note = state.checkpoints.get(name)
    if not note:
        return []
    try:
        kept = open_producer_checkpoint(note, name, verifier)
    except NoteError as exc:
        return [Finding(name, "BAD_CHECKPOINT", f"the kept checkpoint does not open: {exc}")]
    if checkpoint.size < kept.size:
        return [
            Finding(
                name,
                "ROLLED_BACK",
                f"the ledger's checkpoint has {checkpoint.size} events, "
                f"one it signed before had {kept.size}",
            )
        ]
    if kept.size == 0:
        return []
    if kept.size == checkpoint.size:
        hashes: tuple[bytes, ...] = ()
    else:
        reply = await client.consistency(name, kept.size, checkpoint.size)
        hashes = tuple(reply.hashes)
    try:
        ConsistencyProof(kept.size, checkpoint.size, hashes).verify_between(kept, checkpoint)
    except ProofError as exc:
        return [
            Finding(
                name,
                "INCONSISTENT",
                f"checkpoint {checkpoint.size} does not extend the kept {kept.size}: {exc}",
            )
        ]
    return []


async def read_topic(
    bus: EventBus, *, wait: float = 2.0
) -> tuple[list[pb.AuditEvent], list[pb.SignedHead], int]:
    """Every audit event and signed head on the topic (a throwaway group, nothing committed),
    and how many records did not decode."""
    subscription = await bus.subscribe(
        group=f"consilium-audit-verify-{uuid.uuid4().hex[:12]}",
        topics=[AUDIT_IDENTITY_ACCESS],
        from_beginning=True,
    )
    events: list[pb.AuditEvent] = []
    heads: list[pb.SignedHead] = []
    bad = 0
    idle = 0
    try:
        # Kafka may answer empty while the group is being joined: give up only after a few
        # empty fetches in a row, once records have flowed or the topic stayed silent.
        while idle < (1 if events else 5):
            batch = await subscription.fetch(max_records=500, wait=wait)
            idle = 0 if batch else idle + 1
            for record in batch:
                try:
                    if record.event is None:
                        raise ValueError("not an event")
                    if record.event.type == _HEAD_TYPE:
                        heads.append(record.event.decode(epb.AuditHeadSigned).head)
                    else:
                        events.append(record.event.decode(epb.IdentityAccessRecorded).event)
                except Exception:
                    bad += 1
    finally:
        await subscription.close()
    return events, heads, bad


def verify_topic(
    events: Sequence[pb.AuditEvent],
    trust: Trust,
    state: AuditorState,
    heads: Heads | None = None,
) -> Outcome:
    outcome = Outcome()
    first_seen: dict[str, bytes] = {}
    chains: dict[str, list[pb.AuditEvent]] = defaultdict(list)
    for event in events:
        data = event.SerializeToString(deterministic=True)
        held = first_seen.setdefault(event.event_id, data)
        if held != data:
            outcome.add(
                [Finding(event.producer, "DUPLICATE", f"event id {event.event_id} differs")]
            )
        elif held is data:  # the first copy; a redelivered identical one is not a fault
            chains[event.producer].append(event)
    signers = _signers(chains)
    outcome.add(producer_findings(trust.pins, sorted(chains), list(state.checkpoints)))
    vkey = trust.vkey(state)
    verifier = NoteVerifier.from_vkey(vkey) if vkey else None
    expected = expected_heads(trust, sorted(chains), heads) if heads is not None else []
    for name in sorted(set(chains) | set(expected)):
        chain = sorted(chains.get(name, []), key=lambda e: e.sequence)
        verdict = verify_chain(chain, trust.keys)
        outcome.add(chain_findings(name, chain, trust.keys, trust.pins, signers, verdict))
        if heads is not None:
            outcome.add(_head_findings(name, chain, verdict, trust, heads, None))
        note = state.checkpoints.get(name)
        if note and verifier is not None:
            try:
                kept = open_producer_checkpoint(note, name, verifier)
            except NoteError as exc:
                outcome.add([Finding(name, "BAD_CHECKPOINT", f"the kept checkpoint: {exc}")])
                continue
            outcome.add(log_findings(name, chain, kept))
        outcome.notes.append(f"{name}: {len(chain)} events on the topic")
    return outcome
