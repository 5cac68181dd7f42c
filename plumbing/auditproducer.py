"""An audit producer's start-up in one call: rotate its key if asked, then sign and serve heads.

Identity and anonymity (and any later producer, the ledger's own chain included) call
`audit_producer` in their `build`, after migrations and before serving: the chain is brought to
the configured key (`plumbing.auditrotation`), and they get the `AuditHeadService` binding for
their gRPC server and a `HeadPublisher` to start and stop with their event runtime.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from consilium.audit.v1 import audit_pb2_grpc
from plumbing.audithead_producer import (
    HEAD_SERVICE_NAME,
    ChainHeads,
    HeadPublisher,
    HeadServicer,
)
from plumbing.auditkeys import AuditSigningKey
from plumbing.auditrotation import rotate_at_start
from plumbing.grpc.server import ServiceBinding


@dataclass(frozen=True, slots=True)
class AuditProducer:
    """What a producer runs for its audit chain beside its own use cases."""

    heads: ChainHeads
    publisher: HeadPublisher
    binding: ServiceBinding


async def audit_producer(
    engine: AsyncEngine,
    *,
    chain: Table,
    outbox: Table,
    producer: str,
    key: AuditSigningKey,
    previous: AuditSigningKey | None,
    source: str,
    authorize: Callable[[], Awaitable[object]],
    notify: Callable[[], None] | None = None,
    head_interval: float = 30.0,
) -> AuditProducer:
    """Rotates to `key` when `previous` signs the chain; the head machinery, not started."""
    await rotate_at_start(
        engine, chain, outbox, producer=producer, key=key, previous=previous, source=source
    )
    heads = ChainHeads(engine, chain, producer, key)
    publisher = HeadPublisher(heads, outbox, source=source, notify=notify, interval=head_interval)
    binding = ServiceBinding(
        HEAD_SERVICE_NAME,
        audit_pb2_grpc.add_AuditHeadServiceServicer_to_server,
        HeadServicer(heads, authorize),
    )
    return AuditProducer(heads, publisher, binding)
