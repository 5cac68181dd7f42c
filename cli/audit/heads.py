"""Producers' signed chain heads for `consilium audit verify`: fetched, opened, held to the ledger.

The ledger cannot sign a producer's head, so a head is the auditor's independent word of how
long each chain is. Heads come straight from the producers (`GetAuditHead`, an auditor's token,
`--producer-address NAME=HOST:PORT`, defaults below) or from the audit topic, where producers
publish them beside their events (the newest per producer). A ledger that serves fewer events
than a head names, serves a different event at the head's position, or signs a checkpoint
smaller than the head is caught; an expected producer without a head is a finding too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cli.audit.findings import LEDGER_PRODUCER, Finding
from consilium.audit.v1 import audit_pb2 as pb
from consilium.audit.v1 import audit_pb2_grpc
from plumbing.auditchain import ChainVerdict
from plumbing.audithead import head_problem, newest
from plumbing.grpc.caller import bearer_metadata
from plumbing.settings import DEFAULT_PORTS
from services.audit.domain.producers import ProducerPins

#: Where each producer serves its head unless `--producer-address` says otherwise.
DEFAULT_PRODUCER_ADDRESSES = {
    name: f"127.0.0.1:{DEFAULT_PORTS[name]}" for name in ("identity", "anonymity")
}
#: Where heads come from: the producers (gRPC), the audit topic, or nowhere (skipped).
HEAD_SOURCES = ("producers", "topic", "none")


def parse_addresses(values: Sequence[str]) -> dict[str, str]:
    """`NAME=HOST:PORT` options over the defaults; ValueError names a malformed one."""
    addresses = dict(DEFAULT_PRODUCER_ADDRESSES)
    for value in values:
        name, sep, address = value.partition("=")
        if not sep or not name or ":" not in address:
            raise ValueError(f"--producer-address {value!r}: expected NAME=HOST:PORT")
        addresses[name.strip()] = address.strip()
    return addresses


async def fetch_heads(
    names: Sequence[str], addresses: Mapping[str, str], token: str, *, deadline: float = 5.0
) -> tuple[dict[str, pb.SignedHead], list[Finding]]:
    """Each producer's head from the producer itself; a producer not answering is MISSING_HEAD."""
    heads: dict[str, pb.SignedHead] = {}
    found: list[Finding] = []
    for name in names:
        address = addresses.get(name)
        if address is None:
            found.append(
                Finding(name, "MISSING_HEAD", "no address: give --producer-address NAME=HOST:PORT")
            )
            continue
        try:
            async with grpc.aio.insecure_channel(address) as channel:
                stub: Any = audit_pb2_grpc.AuditHeadServiceStub(channel)
                reply = await stub.GetAuditHead(
                    pb.GetAuditHeadRequest(), metadata=bearer_metadata(token), timeout=deadline
                )
        except grpc.aio.AioRpcError as error:
            found.append(
                Finding(
                    name,
                    "MISSING_HEAD",
                    f"its head could not be fetched from {address}: {error.code().name}",
                )
            )
            continue
        heads[name] = reply.head
    return heads, found


def topic_heads(published: Sequence[pb.SignedHead]) -> dict[str, pb.SignedHead]:
    """The newest head each producer published on the topic."""
    by_producer: dict[str, list[pb.SignedHead]] = {}
    for head in published:
        by_producer.setdefault(head.producer, []).append(head)
    heads = {name: newest(list(found)) for name, found in by_producer.items()}
    return {name: head for name, head in heads.items() if head is not None}


def head_keys(
    producer: str,
    pins: ProducerPins,
    keys: Mapping[str, Ed25519PublicKey],
    verdict: ChainVerdict,
) -> dict[str, Ed25519PublicKey]:
    """The keys a head of `producer` may be signed with: pinned to it (every trusted key when
    nothing is pinned) and those its chain rotated to."""
    own = {k: v for k, v in keys.items() if not pins.configured or pins.allows(producer, k)}
    return {**own, **verdict.rotated_keys}


def head_findings(
    producer: str,
    head: pb.SignedHead | None,
    events: Sequence[Any],
    keys: Mapping[str, Ed25519PublicKey],
    *,
    checkpoint_size: int | None,
    source: str,
) -> list[Finding]:
    """The served chain (and the ledger's checkpoint size) against the producer's head."""
    if head is None:
        return [Finding(producer, "MISSING_HEAD", f"no signed head of it from the {source}")]
    problem = head_problem(head, producer, keys)
    if problem:
        return [Finding(producer, "BAD_HEAD", f"{problem} (from the {source})")]
    by_sequence = {int(e.sequence): e for e in events}
    highest = max(by_sequence, default=0)
    said = f"its head signed at {head.signed_at.ToJsonString()} (from the {source}) says"
    found = []
    if highest < head.size:
        found.append(
            Finding(
                producer,
                "TRUNCATED",
                f"{said} {head.size} events; only {highest} are served",
            )
        )
    elif head.size and bytes(by_sequence[head.size].hash) != bytes(head.head_hash):
        found.append(
            Finding(
                producer,
                "HEAD_MISMATCH",
                f"{said} event {head.size} hashes to {bytes(head.head_hash).hex()[:16]}; "
                f"the one served is another",
            )
        )
    if checkpoint_size is not None and checkpoint_size < head.size:
        found.append(
            Finding(
                producer,
                "ROLLED_BACK",
                f"the ledger's checkpoint holds {checkpoint_size} events; {said} {head.size}",
            )
        )
    return found


async def await_heads(
    client: Any, heads: Mapping[str, pb.SignedHead], wait: float, *, poll: float = 0.2
) -> None:
    """Gives the ledger up to `wait` seconds to ingest what the heads name: events in flight
    (outbox, broker) are lag, not truncation. Returns early once every head is covered."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    for name, head in heads.items():
        while head.size:
            reply = await client.stub.ListChainEvents(
                pb.ListChainEventsRequest(producer=name, after_sequence=head.size - 1, page_size=1),
                metadata=client.metadata,
            )
            if reply.events or loop.time() >= deadline:
                break
            await asyncio.sleep(poll)


def producers_to_ask(pins: ProducerPins, explicit: Sequence[str]) -> list[str]:
    """Whose heads to fetch: the pinned producers, else (dev) this system's producers and any
    named with `--producer-address`."""
    # Not the ledger's own chain: a head it signed itself cannot hold it to anything, so that
    # chain is held to the checkpoints the auditor keeps (`--state`).
    if pins.configured:
        return [p for p in pins.producers if p != LEDGER_PRODUCER]
    return sorted({"identity", "anonymity", *explicit} - {LEDGER_PRODUCER})
