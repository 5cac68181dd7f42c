"""A producer's side of signed heads: read its chain row, sign, serve (GetAuditHead), publish.

One mechanism for every audit producer (identity, anonymity and the ledger's own chain): give
it the chain table (`plumbing.auditchain_row` shape), the producer's name, its signing key and
a check that the caller is an auditor. The head is read from the committed row, so it never
names an event whose transaction might still roll back.

Publication is cheap: `HeadPublisher` writes one `AuditHeadSigned` to the outbox at start, then
when the head moved, checked at most once per `min_gap` after a write is signalled (`poke`)
and at least every `interval` seconds, and an unchanged head again every `refresh` seconds (a
fresh time says the producer is alive and wrote nothing since). A burst of writes makes one
head, not one each.
The relay sends it on the audit topic with the producer's key, so it follows the events it
covers in the same partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from consilium.audit.v1 import audit_pb2 as pb
from consilium.audit.v1 import audit_pb2_grpc
from consilium.events.v1 import audit_events_pb2 as epb
from plumbing.audithead import sign_head
from plumbing.auditkeys import AuditSigningKey
from plumbing.auth.claims import AccessClaims, Role
from plumbing.errors import PermissionDenied, Unauthenticated
from plumbing.events.envelope import new_event
from plumbing.events.outbox import add_to_outbox
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS

log = logging.getLogger("consilium.audit.heads")

#: The service name a producer binds `AuditHeadService` under.
HEAD_SERVICE_NAME = pb.DESCRIPTOR.services_by_name["AuditHeadService"].full_name


class ChainHeads:
    """Signs `producer`'s current chain head, read from its row in `table`."""

    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        producer: str,
        key: AuditSigningKey,
    ) -> None:
        self.engine = engine
        self._table = table
        self.producer = producer
        self._key = key

    async def position(self) -> tuple[int, bytes]:
        """(last sequence, its hash) as committed."""
        t = self._table
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(t.c.sequence, t.c.last_hash).where(t.c.producer == self.producer)
                )
            ).first()
        if row is None:
            return 0, b""
        return int(row.sequence), bytes(row.last_hash)

    def sign(self, size: int, digest: bytes) -> pb.SignedHead:
        return sign_head(self.producer, size, digest, self._key)

    async def current(self) -> pb.SignedHead:
        return self.sign(*await self.position())


def auditor_only(claims: AccessClaims | None) -> AccessClaims:
    """The caller, if their token holds AUDITOR (the service then checks the role live)."""
    if claims is None:
        raise Unauthenticated("sign in as an auditor to read a producer's audit head")
    if Role.AUDITOR not in claims.roles:
        raise PermissionDenied("a producer's audit head is for the AUDITOR role")
    return claims


class HeadServicer(audit_pb2_grpc.AuditHeadServiceServicer):
    """`GetAuditHead`: the producer's head, to auditors only (`authorize` raises otherwise)."""

    def __init__(self, heads: ChainHeads, authorize: Callable[[], Awaitable[object]]) -> None:
        self._heads = heads
        self._authorize = authorize

    async def GetAuditHead(
        self, request: pb.GetAuditHeadRequest, context: Any
    ) -> pb.GetAuditHeadResponse:
        await self._authorize()
        return pb.GetAuditHeadResponse(head=await self._heads.current())


class HeadPublisher:
    """Writes the signed head to the outbox at start and whenever it moved."""

    def __init__(
        self,
        heads: ChainHeads,
        outbox: Table,
        *,
        source: str,
        notify: Callable[[], None] | None = None,
        interval: float = 30.0,
        min_gap: float = 1.0,
        refresh: float = 600.0,
    ) -> None:
        self._heads = heads
        self._outbox = outbox
        self._source = source
        self._notify = notify
        self._interval = interval
        self._min_gap = min_gap
        self._refresh = refresh
        self._published_at = 0.0
        self._wake = asyncio.Event()
        self._published: tuple[int, bytes] | None = None
        self._task: asyncio.Task[None] | None = None
        self.count = 0

    def poke(self) -> None:
        """Signals a write: the head is looked at within `min_gap` seconds."""
        self._wake.set()

    async def publish(self) -> bool:
        """Queues the signed head unless it is the one published last (within `refresh`
        seconds); True if queued."""
        position = await self._heads.position()
        fresh = time.monotonic() - self._published_at < self._refresh
        if position == self._published and fresh:
            return False
        head = self._heads.sign(*position)
        event = new_event(
            epb.AuditHeadSigned(head=head),
            topic=AUDIT_IDENTITY_ACCESS,
            key=self._heads.producer,
            source=self._source,
        )
        async with AsyncSession(self._heads.engine) as session, session.begin():
            await add_to_outbox(session, self._outbox, [event])
        self._published = position
        self._published_at = time.monotonic()
        self.count += 1
        if self._notify is not None:
            self._notify()
        return True

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"heads-{self._heads.producer}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.publish()
            except Exception:
                # The next round tries again; a head missed now is only a later head.
                log.warning("audit: %s head not published this round", self._heads.producer)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await asyncio.sleep(self._min_gap)


#: The full method name of GetAuditHead, as interceptors see it.
HEAD_METHOD = f"/{HEAD_SERVICE_NAME}/GetAuditHead"


class AdmitHeadReaders:
    """A `CallerCheck` that lets auditors reach GetAuditHead on a server whose other methods
    admit only named services (anonymity's): the head servicer checks the auditor itself."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def check(self, method: str, metadata: Any) -> object:
        if method == HEAD_METHOD:
            return None
        return self._inner.check(method, metadata)
