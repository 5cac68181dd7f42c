"""Test helpers for the audit ledger: a signing producer, a running ledger, staff tokens."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from support.accounts import PASSWORD, store_account

from consilium.audit.v1 import audit_pb2 as pb
from consilium.audit.v1 import audit_pb2_grpc
from consilium.events.v1 import audit_events_pb2 as epb
from consilium.identity.v1 import identity_pb2 as ipb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.auditchain import GENESIS, link
from plumbing.auth import Role
from plumbing.auth.jwk import key_id
from plumbing.events.bus import EventBus
from plumbing.events.envelope import Event, MalformedEvent, new_event
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS, topic_specs
from plumbing.grpc.caller import bearer_metadata
from services.audit.app import Audit, build
from services.audit.settings import AuditSettings
from services.identity.app import Identity

#: The ledger's own producer: every auditor query is one of its events.
OWN = "audit"
Metadata = tuple[tuple[str, str], ...]
#: A fixed start, so time-range filters have known answers.
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def publish_key(data_dir: Path, key: Ed25519PrivateKey) -> str:
    """Places the key's public half where the dev ledger trusts it; returns its key id."""
    public = key.public_key()
    kid = key_id(public)
    directory = data_dir / "audit" / "trusted-keys"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{kid}.pem").write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return kid


@dataclass
class Producer:
    """Builds one producer's chain the way identity and anonymity do: numbered, linked, signed."""

    name: str
    key: Ed25519PrivateKey
    key_id: str
    sequence: int = 0
    last_hash: bytes = GENESIS
    made: list[pb.AuditEvent] = field(default_factory=list)

    def next(self, *, minutes: int | None = None, **fields: Any) -> pb.AuditEvent:
        values: dict[str, Any] = {
            "event_id": uuid.uuid4().hex,
            "producer": self.name,
            "actor_id": "usr_moderator",
            "actor_role": pb.ACTOR_ROLE_MODERATOR,
            "subject_id": "als_subject",
            "subject_kind": pb.SUBJECT_KIND_ALIAS,
            "action": pb.ACTION_REVEAL_ALIAS,
            "fields": ["user_id"],
            "purpose": "harassment report",
            "decision": pb.DECISION_GRANTED,
            "trace_id": uuid.uuid4().hex,
            "span_id": uuid.uuid4().hex[:16],
        }
        values.update(fields)
        event = pb.AuditEvent(**values)
        offset = len(self.made) if minutes is None else minutes
        event.occurred_at.FromDatetime(T0 + timedelta(minutes=offset))
        self.sequence += 1
        self.last_hash = link(
            event,
            sequence=self.sequence,
            prev_hash=self.last_hash,
            key=self.key,
            key_id=self.key_id,
        )
        self.made.append(event)
        return event

    def rotate(
        self, new_key: Ed25519PrivateKey, *, signer: Ed25519PrivateKey | None = None
    ) -> pb.AuditEvent:
        """A KEY_ROTATED event naming `new_key`, signed with the current key (or `signer`,
        to forge one), after which this producer signs with `new_key`."""
        raw = new_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        current = self.key
        self.key = signer or current
        event = self.next(
            action=pb.ACTION_KEY_ROTATED,
            actor_id=self.name,
            actor_role=pb.ACTOR_ROLE_SERVICE,
            subject_id="",
            subject_kind=pb.SUBJECT_KIND_UNSPECIFIED,
            fields=["audit_signing_key"],
            purpose="",
            new_public_key=raw,
        )
        self.key, self.key_id = new_key, key_id(new_key.public_key())
        return event


def envelope(event: pb.AuditEvent) -> Event:
    """The record a producer's relay publishes: keyed by producer, so one partition per chain."""
    return new_event(
        epb.IdentityAccessRecorded(event=event),
        topic=AUDIT_IDENTITY_ACCESS,
        key=event.producer,
        source=f"/consilium/{event.producer}",
    )


async def rpc_error(call: Any) -> grpc.aio.AioRpcError:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the call succeeded")


@dataclass
class Ledger:
    """A running audit server, identity beside it, and a bus client acting as the producers."""

    stub: audit_pb2_grpc.AuditServiceStub
    instance: Audit
    identity: Identity
    bus: EventBus
    data_dir: Path
    _tokens: dict[Role, Metadata] = field(default_factory=dict)

    def producer(self, name: str = "anonymity") -> Producer:
        key = Ed25519PrivateKey.generate()
        return Producer(name, key, publish_key(self.data_dir, key))

    @property
    def handled(self) -> int:
        (consumer,) = self.instance.events.consumers
        return consumer.applied + consumer.skipped + consumer.dead_lettered

    async def publish(self, *records: Event) -> None:
        """Publishes and waits until the ledger's consumer has handled every record.

        The ledger's own events (one per auditor query) come back over the topic too and
        count as handled, so the wait also covers every published event id being stored.
        """
        target = self.handled + len(records)
        ids = set()
        for record in records:
            try:
                event = record.decode(epb.IdentityAccessRecorded).event
            except MalformedEvent:  # counted as handled (dead-lettered), never stored
                continue
            if event.event_id and event.producer and event.sequence >= 1:
                ids.add(event.event_id)
        await self.bus.publish(list(records))
        async with asyncio.timeout(20):
            while self.handled < target or not await self._stored(ids):  # noqa: ASYNC110
                await asyncio.sleep(0.02)

    async def _stored(self, ids: set[str]) -> bool:
        if not ids:
            return True
        found: set[str] = set()
        async with self.instance.engine.connect() as conn:
            for table in ("audit_events", "audit_conflicts"):
                rows = await conn.execute(text(f"SELECT event_id FROM {table}"))
                found.update(row[0] for row in rows)
        return ids <= found

    async def ingest(self, *events: pb.AuditEvent) -> None:
        await self.publish(*(envelope(e) for e in events))

    async def token(self, role: Role) -> Metadata:
        """Metadata authenticating a VERIFIED account holding `role` (made once per role)."""
        if role not in self._tokens:
            _, self._tokens[role] = await self.staff(role)
        return self._tokens[role]

    async def staff(self, role: Role) -> tuple[str, Metadata]:
        """A new VERIFIED account holding `role`: its user id and a signed-in token."""
        user_id, email = await store_account(self.identity.store, role)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.identity.server.port}") as ch:
            reply = await identity_pb2_grpc.IdentityServiceStub(ch).Login(
                ipb.LoginRequest(email=email, password=PASSWORD)
            )
        return user_id, bearer_metadata(reply.access_token)

    async def query(
        self, page_size: int = 0, page_token: str = "", **filter_fields: Any
    ) -> pb.QueryEventsResponse:
        """A page of events; the ledger's own records of these queries (producer "audit")
        left out unless `producer="audit"` asks for them: each query adds one."""
        request = pb.QueryEventsRequest(
            filter=pb.EventFilter(**filter_fields), page_size=page_size, page_token=page_token
        )
        reply = await self.stub.QueryEvents(request, metadata=await self.token(Role.AUDITOR))
        if filter_fields.get("producer") == OWN:
            return reply
        return pb.QueryEventsResponse(
            events=[e for e in reply.events if e.producer != OWN],
            next_page_token=reply.next_page_token,
        )

    async def verify(self, producer: str = "") -> pb.VerifyChainResponse:
        """VerifyChain; the report on the ledger's own chain left out unless asked for."""
        reply = await self.stub.VerifyChain(
            pb.VerifyChainRequest(producer=producer), metadata=await self.token(Role.AUDITOR)
        )
        if producer == OWN:
            return reply
        reports = [r for r in reply.reports if r.producer != OWN]
        return pb.VerifyChainResponse(ok=all(r.ok for r in reports), reports=reports)

    async def execute(self, statement: str, **params: Any) -> None:
        """Raw SQL on the ledger's database, as someone tampering with it would."""
        async with self.instance.engine.begin() as conn:
            await conn.execute(text(statement), params)


def audit_settings(
    database_url: str, data_dir: Path, identity: Identity, **overrides: Any
) -> AuditSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "port": 0,
        "identity_address": f"127.0.0.1:{identity.server.port}",
        # No reuse: tests change an auditor's roles and look at once.
        "staff_check_seconds": 0,
    }
    values.update(overrides)
    return AuditSettings(**values)


@asynccontextmanager
async def running_ledger(
    settings: AuditSettings, identity: Identity, make_bus: Callable[[], EventBus]
) -> AsyncIterator[Ledger]:
    """The audit server on an ephemeral port with its consumer started; topics created."""
    bus = make_bus()
    await bus.start()
    await bus.create_topics(topic_specs())
    async with build(settings, bus=make_bus()) as instance:
        port = await instance.server.start()
        await instance.events.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                yield Ledger(
                    audit_pb2_grpc.AuditServiceStub(channel),
                    instance,
                    identity,
                    bus,
                    settings.data_dir,
                )
        finally:
            await instance.server.stop()
            await instance.events.stop()
            await bus.close()
