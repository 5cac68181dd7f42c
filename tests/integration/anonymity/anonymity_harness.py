"""Test helpers: identity and anonymity servers on loopback, physicians in known states."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from sqlalchemy import text
from support.accounts import PASSWORD, next_npi, store_account
from support.service_channel import service_channel

from consilium.anonymity.v1 import anonymity_pb2 as apb
from consilium.anonymity.v1 import anonymity_pb2_grpc
from consilium.events.v1 import identity_events_pb2 as iev
from consilium.identity.v1 import identity_pb2 as ipb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.auth import Role
from plumbing.events.bus import EventBus
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.envelope import Event, new_event
from plumbing.events.factory import embedded_path
from plumbing.events.topics import IDENTITY_PHYSICIANS, topic_specs
from plumbing.grpc.caller import bearer_metadata
from services.anonymity.app import Anonymity, build
from services.anonymity.domain.aliases import StoredAlias
from services.anonymity.ports import AccessRecordWriter, AccountModeration
from services.anonymity.settings import AnonymitySettings
from services.identity.app import Identity
from services.identity.domain.physician import new_user_id

CARDIOLOGY = "207RC0000X"
DERMATOLOGY = "207N00000X"
GENETICS = "207SG0201X"
#: A small K so a handful of physicians crosses it.
TEST_K = 3

Metadata = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Person:
    user_id: str
    email: str
    full_name: str
    metadata: Metadata = field(repr=False)


def identity_event(message: Message, user_id: str) -> Event:
    """An event as identity publishes it on `identity.physicians.v1`, keyed by user id."""
    return new_event(message, topic=IDENTITY_PHYSICIANS, key=user_id, source="/consilium/identity")


@dataclass
class FakeAccounts:
    """Identity's account actions as anonymity calls them; `bus` set: answers with the event
    identity would publish (PhysicianSuspended / PhysicianReinstated), like the real one."""

    bus: EventBus | None = None
    calls: list[tuple[str, str]] = field(default_factory=list)

    async def suspend_account(self, user_id: str, reason: str) -> None:
        self.calls.append(("suspend", user_id))
        if self.bus is not None:
            await self.bus.publish(
                [identity_event(iev.PhysicianSuspended(user_id=user_id), user_id)]
            )

    async def reinstate_account(self, user_id: str) -> None:
        self.calls.append(("reinstate", user_id))
        if self.bus is not None:
            verified = ipb.VERIFICATION_STATUS_VERIFIED
            message = iev.PhysicianReinstated(user_id=user_id, verification=verified)
            await self.bus.publish([identity_event(message, user_id)])


async def rpc_error(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


@dataclass
class Stack:
    """Identity and anonymity over real gRPC, with helpers for people and raw DB access."""

    identity: identity_pb2_grpc.IdentityServiceStub
    identity_instance: Identity
    anonymity: anonymity_pb2_grpc.AnonymityServiceStub
    instance: Anonymity
    #: A separate client of the bus anonymity consumes from, acting as identity's relay.
    bus: EventBus
    accounts: FakeAccounts
    _admin: Person | None = None

    async def publish(self, *events: Event) -> None:
        """Publishes identity events and waits until anonymity's consumer has handled them."""
        target = self.handled + len(events)
        await self.bus.publish(list(events))
        await self.settled(target)

    async def settled(self, target: int) -> None:
        """Waits until the consumer has handled `target` events in all."""
        async with asyncio.timeout(15):
            while self.handled < target:  # noqa: ASYNC110 - the consumer offers no event
                await asyncio.sleep(0.02)

    @property
    def handled(self) -> int:
        """How many identity events the consumer has handled (applied, skipped or dead)."""
        (consumer,) = [c for c in self.instance.events.consumers if c.group == "anonymity"]
        return consumer.applied + consumer.skipped + consumer.dead_lettered

    async def outbox(self, topic: str) -> list[Event]:
        """The events anonymity queued for `topic`, in write order (sent or not)."""
        async with self.instance.engine.connect() as conn:
            result = await conn.execute(
                text("SELECT * FROM outbox WHERE topic = :t ORDER BY position"), {"t": topic}
            )
            rows = [row._mapping for row in result]
        return [
            Event(
                id=r["event_id"],
                type=r["event_type"],
                source=r["source"],
                topic=r["topic"],
                key=r["event_key"],
                data=bytes(r["data"]),
                time=r["occurred_at"],
                traceparent=r["traceparent"],
            )
            for r in rows
        ]

    async def person_events(self) -> list[Event]:
        """The person-keyed events identity (here: its stand-in) published, in order."""
        subscription = await self.bus.subscribe(
            group=f"reader-{uuid.uuid4().hex[:8]}", topics=[IDENTITY_PHYSICIANS]
        )
        found: list[Event] = []
        try:
            while records := await subscription.fetch(max_records=500, wait=0.2):
                found += [r.event for r in records if r.event is not None]
        finally:
            await subscription.close()
        return found

    async def suspend_account(self, person: Person) -> None:
        """An ADMIN suspends the account at identity, which announces it to anonymity."""
        if self._admin is None:
            self._admin = await self.staff(Role.ADMIN)
        await self.identity.SuspendPhysician(
            ipb.SuspendPhysicianRequest(user_id=person.user_id, reason="test"),
            metadata=self._admin.metadata,
        )
        uid = person.user_id
        await self.publish(identity_event(iev.PhysicianSuspended(user_id=uid), uid))

    async def staff(self, role: Role) -> Person:
        """A VERIFIED account holding `role`, stored directly (no admin exists to bootstrap)."""
        user_id, email = await store_account(self.identity_instance.store, role)
        return Person(user_id, email, "Staff Member", await self._login(email))

    async def physician(
        self, *, specialty: str = CARDIOLOGY, full_name: str | None = None, verified: bool = True
    ) -> Person:
        """A registered physician (VERIFIED by an admin unless `verified` is False)."""
        tag = new_user_id()[4:14]
        email = f"canary.{tag}@example.org"
        name = full_name or f"Dr Canary {tag.capitalize()}"
        reply = await self.identity.Register(
            ipb.RegisterRequest(
                email=email,
                password=PASSWORD,
                full_name=name,
                npi=next_npi(),
                specialty_code=specialty,
                country="US",
            )
        )
        user_id = reply.physician.user_id
        events = [
            identity_event(
                iev.PhysicianRegistered(user_id=user_id, specialty_code=specialty),
                user_id,
            )
        ]
        if verified:
            if self._admin is None:
                self._admin = await self.staff(Role.ADMIN)
            await self.identity.VerifyPhysician(
                ipb.VerifyPhysicianRequest(user_id=user_id, approve=True),
                metadata=self._admin.metadata,
            )
            verified_event = iev.PhysicianVerified(user_id=user_id, specialty_code=specialty)
            events.append(identity_event(verified_event, user_id))
        # What identity's relay would publish; anonymity learns personas from it.
        await self.publish(*events)
        return Person(user_id, email, name, await self._login(email))

    async def _login(self, email: str) -> Metadata:
        reply = await self.identity.Login(ipb.LoginRequest(email=email, password=PASSWORD))
        return bearer_metadata(reply.access_token)

    async def alias(
        self, person: Person, visibility: int = apb.VISIBILITY_PSEUDONYMOUS, scope_id: str = ""
    ) -> apb.GetOrCreateAliasResponse:
        return await self.anonymity.GetOrCreateAlias(
            apb.GetOrCreateAliasRequest(
                user_id=person.user_id, visibility=visibility, scope_id=scope_id
            ),
            metadata=person.metadata,
        )

    async def scope(self, person: Person) -> str:
        reply = await self.anonymity.CreateThreadScope(
            apb.CreateThreadScopeRequest(), metadata=person.metadata
        )
        return reply.scope_id

    async def describe(self, *alias_ids: str) -> dict[str, apb.Persona]:
        reply = await self.anonymity.BatchDescribeAliases(
            apb.BatchDescribeAliasesRequest(alias_ids=list(alias_ids))
        )
        return {p.alias_id: p for p in reply.personas}

    async def stored(self, *alias_ids: str) -> dict[str, StoredAlias]:
        """The alias rows as the store reads them."""
        async with self.instance.store.transaction() as repo:
            return await repo.get_aliases(alias_ids)

    async def rows(self, table: str) -> list[dict[str, Any]]:
        async with self.instance.engine.connect() as conn:
            result = await conn.execute(text(f"SELECT * FROM {table}"))
            return [dict(row._mapping) for row in result]


@asynccontextmanager
async def running_anonymity(
    settings: AnonymitySettings,
    identity: Identity,
    *,
    record_writer: AccessRecordWriter | None = None,
    accounts: AccountModeration | None = None,
    bus_factory: Callable[[], EventBus] | None = None,
) -> AsyncIterator[Stack]:
    """An anonymity server for `settings`, talking to the running `identity`, with its
    event runtime started on the embedded bus in the data dir, or on the buses
    `bus_factory` makes (one for anonymity, one for the test); topics created here.

    Account actions go to a `FakeAccounts` that answers through the bus like identity,
    unless `accounts` says otherwise.
    """
    make_bus = bus_factory or (lambda: EmbeddedBus(embedded_path(settings.data_dir)))
    bus = make_bus()
    await bus.start()
    await bus.create_topics(topic_specs())
    fake = FakeAccounts(bus)
    async with build(
        settings, record_writer=record_writer, accounts=accounts or fake, bus=make_bus()
    ) as instance:
        port = await instance.server.start()
        await instance.events.start()
        try:
            async with (
                service_channel(
                    f"127.0.0.1:{port}", settings.data_dir, audience="anonymity"
                ) as channel,
                grpc.aio.insecure_channel(f"127.0.0.1:{identity.server.port}") as id_channel,
            ):
                yield Stack(
                    identity=identity_pb2_grpc.IdentityServiceStub(id_channel),
                    identity_instance=identity,
                    anonymity=anonymity_pb2_grpc.AnonymityServiceStub(channel),
                    instance=instance,
                    bus=bus,
                    accounts=fake,
                )
        finally:
            await instance.server.stop()
            await instance.events.stop()
            await bus.close()


def anonymity_settings(
    database_url: str, data_dir: Path, identity: Identity, **overrides: Any
) -> AnonymitySettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "port": 0,
        "identity_address": f"127.0.0.1:{identity.server.port}",
        "k_anonymity": TEST_K,
        # No caching: tests change verification and counts and look at once.
        "attributes_cache_seconds": 0,
        "counts_cache_seconds": 0,
        "staff_check_seconds": 0,
    }
    values.update(overrides)
    return AnonymitySettings(**values)
