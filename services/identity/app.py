"""Wires the identity service from settings and runs it: `consilium serve identity`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from consilium.identity.v1 import identity_pb2, identity_pb2_grpc
from plumbing import db
from plumbing.audithead_producer import auditor_only
from plumbing.auditkeys import settings_previous_key, settings_signing_key
from plumbing.auditlink import load_tag_key
from plumbing.auditproducer import AuditProducer, audit_producer
from plumbing.auth.claims import Role, VerificationStatus
from plumbing.auth.service import ServiceCredentials
from plumbing.component import load_settings, migrate_database, serve_until_signalled, start_process
from plumbing.erasurelog import ErasureLog
from plumbing.errors import NotFound, PermissionDenied
from plumbing.events.bus import EventBus
from plumbing.events.factory import create_bus
from plumbing.events.runtime import EventRuntime
from plumbing.grpc.caller import caller_token
from plumbing.grpc.server import GrpcServer, ServiceBinding
from services.identity.adapters.audit import PRODUCER, AuditChain
from services.identity.adapters.audit_subjects import AuditSubjects
from services.identity.adapters.erasure_journal import TaggedErasureJournal
from services.identity.adapters.events import SOURCE
from services.identity.adapters.servicer import IdentityServicer
from services.identity.adapters.store import SqlIdentityStore
from services.identity.adapters.tables import audit_chain, event_tables
from services.identity.domain.passwords import HashParameters, Passwords
from services.identity.domain.validation import normalize_email
from services.identity.follows import FollowService
from services.identity.login_guard import LoginGuard, load_throttle_key
from services.identity.seed import seed_demo_physicians
from services.identity.service import IdentityService
from services.identity.settings import IdentitySettings
from services.identity.tokens import KeyRing, TokenIssuer

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"
SERVICE_NAME = identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name

log = logging.getLogger("consilium.identity")


@dataclass(frozen=True, slots=True)
class Identity:
    """The running parts of one identity instance.

    `events` is built but not started: `serve()` starts it before the gRPC server and stops
    it after; a test that wants events published starts it, or calls
    `events.relay.publish_pending()` after starting only `events.bus`.
    """

    settings: IdentitySettings
    engine: AsyncEngine
    store: SqlIdentityStore
    service: IdentityService
    keys: KeyRing
    server: GrpcServer
    events: EventRuntime
    #: Its signed audit chain heads: served by the server, published by `serve()`.
    audit: AuditProducer


def _now() -> datetime:
    return datetime.now(UTC)


def _passwords(settings: IdentitySettings) -> Passwords:
    return Passwords(
        HashParameters(
            time_cost=settings.argon2_time_cost,
            memory_cost_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
    )


def _auditor_check(store: SqlIdentityStore, keys: KeyRing) -> Callable[[], Awaitable[None]]:
    """GetAuditHead's gate: an AUDITOR token whose account, read now, is still an auditor."""
    verifier = keys.verifier()

    async def authorize() -> None:
        token = caller_token()
        claims = auditor_only(verifier.verify(token) if token else None)
        async with store.transaction() as repo:
            current = await repo.get(claims.user_id)
        if (
            current is None
            or current.verification is VerificationStatus.SUSPENDED
            or Role.AUDITOR not in current.roles
        ):
            raise PermissionDenied("a producer's audit head is for the AUDITOR role")

    return authorize


def _bus(settings: IdentitySettings) -> EventBus:
    return create_bus(
        kafka_bootstrap=settings.kafka_bootstrap, data_dir=settings.data_dir, client_id="identity"
    )


@asynccontextmanager
async def build(
    settings: IdentitySettings,
    *,
    bus: EventBus | None = None,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[Identity]:
    """Everything wired and migrated, not yet serving; the engine is disposed on exit.

    The erasure log is replayed here, so nobody erased since a backup is served again.

    `bus` defaults to the one the settings name (Kafka, or the embedded bus under the data
    dir). Nothing here connects to it: the event runtime starts only when asked to.
    `clock` replaces the wall clock of the use cases (tests drive the sign-in throttle).
    """
    engine = db.create_engine(settings.resolved_database_url)
    try:
        await db.migrate(engine, MIGRATIONS)
        keys = KeyRing.load(settings.data_dir, allow_dev_key=settings.environment == "dev")
        issuer = TokenIssuer(keys, ttl=timedelta(seconds=settings.token_ttl_seconds))
        events = EventRuntime(bus if bus is not None else _bus(settings), engine, event_tables)
        tag_key = load_tag_key(settings.data_dir, allow_dev=settings.environment == "dev")
        subjects = AuditSubjects(tag_key)
        signing_key = settings_signing_key(settings)
        chain = AuditChain(signing_key, subjects)
        store = SqlIdentityStore(engine, chain=chain, on_emitted=lambda: notify())
        audit = await audit_producer(
            engine,
            chain=audit_chain,
            outbox=event_tables.outbox,
            producer=PRODUCER,
            key=signing_key,
            previous=settings_previous_key(settings),
            source=SOURCE,
            authorize=_auditor_check(store, keys),
            head_interval=settings.audit_head_interval,
        )

        # The relay wakes on every commit that queued an event (plumbing.events.outbox); the
        # audit head publisher wants to know of those commits too.
        notify = audit.publisher.poke

        journal = TaggedErasureJournal(ErasureLog(settings.resolved_erasure_log), subjects.tag)
        guard = LoginGuard(
            load_throttle_key(settings.data_dir, allow_dev=settings.environment == "dev"),
            settings.login_throttle(),
        )
        service = IdentityService(
            store, _passwords(settings), issuer, journal, guard=guard, clock=clock or _now
        )
        # Before anything serves: a restored database must not answer for erased people.
        await service.replay_erasures()
        credentials = ServiceCredentials.load(
            "identity", settings.data_dir, allow_dev=settings.environment == "dev"
        )
        credentials.require_peers("anonymity", "audit")  # its service calls and its reveal grants
        servicer = IdentityServicer(service, keys, credentials, FollowService(store))
        server = GrpcServer(
            component="identity",
            bindings=[
                ServiceBinding(
                    SERVICE_NAME, identity_pb2_grpc.add_IdentityServiceServicer_to_server, servicer
                ),
                audit.binding,
            ],
            address=settings.address,
            health_check=lambda: db.ping(engine),
            health_interval=settings.health_interval,
            grace=settings.shutdown_grace,
        )
        yield Identity(settings, engine, store, service, keys, server, events, audit)
    finally:
        await engine.dispose()


async def serve(*, host: str | None = None, port: int | None = None) -> None:
    settings = load_settings(IdentitySettings, host=host, port=port)
    start_process(settings)
    async with build(settings) as identity:
        identity.audit.publisher.start()
        try:
            await serve_until_signalled(identity.server, identity.events, settings)
        finally:
            await identity.audit.publisher.stop()


async def migrate() -> None:
    await migrate_database(IdentitySettings().resolved_database_url, MIGRATIONS)


async def seed_demo() -> int:
    """Creates the demo accounts unless the database has physicians already."""
    settings = IdentitySettings()
    engine = db.create_engine(settings.resolved_database_url)
    try:
        # The demo accounts' events wait in the outbox until `serve` relays them.
        return await seed_demo_physicians(SqlIdentityStore(engine), _passwords(settings))
    finally:
        await engine.dispose()


async def grant_role(email: str, role: str) -> str:
    """Operator bootstrap (e.g. the first admin): adds `role` to the account with `email`.

    Runs with direct database access, so only whoever operates the deployment can use it.
    Returns the user id.
    """
    settings = IdentitySettings()
    engine = db.create_engine(settings.resolved_database_url)
    try:
        store = SqlIdentityStore(engine)
        async with store.transaction() as repo:
            found = await repo.find_login(normalize_email(email))
            if found is None:
                raise NotFound("no account with that email")
            physician = found[0]
            await repo.save(physician.with_roles(physician.roles | {Role(role)}))
        return physician.user_id
    finally:
        await engine.dispose()
