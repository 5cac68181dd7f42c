"""Wires the anonymity service from settings and runs it: `consilium serve anonymity`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from consilium.anonymity.v1 import anonymity_pb2, anonymity_pb2_grpc
from plumbing import db
from plumbing.audithead_producer import AdmitHeadReaders, auditor_only
from plumbing.auditkeys import settings_previous_key, settings_signing_key
from plumbing.auditproducer import AuditProducer, audit_producer
from plumbing.auth.claims import Role
from plumbing.auth.live import LiveStaffCheck
from plumbing.auth.remote import RemoteTokenVerifier
from plumbing.auth.service import CallerPolicy, ServiceCredentials
from plumbing.component import load_settings, migrate_database, serve_until_signalled, start_process
from plumbing.erasurelog import ErasureLog
from plumbing.events.bus import EventBus
from plumbing.events.factory import create_bus
from plumbing.events.runtime import EventRuntime
from plumbing.events.topics import CONTENT_POSTS, IDENTITY_PHYSICIANS
from plumbing.grpc.caller import caller_token
from plumbing.grpc.server import GrpcServer, ServiceBinding
from services.anonymity.adapters.audit_chain import AuditChain
from services.anonymity.adapters.cache import CachedPersonaAttributes
from services.anonymity.adapters.content_events import GROUP as INDEX_GROUP
from services.anonymity.adapters.content_events import ContentEventHandler
from services.anonymity.adapters.event_converters import PRODUCER, SOURCE
from services.anonymity.adapters.identity_client import IdentityClient
from services.anonymity.adapters.identity_events import GROUP, IdentityEventHandler
from services.anonymity.adapters.servicer import AnonymityServicer
from services.anonymity.adapters.store import SqlAccessRecordWriter, SqlAnonymityStore
from services.anonymity.adapters.tables import audit_chain, event_tables
from services.anonymity.attributes import StoredPersonaAttributes
from services.anonymity.domain.crypto import MasterKeys
from services.anonymity.erasure import replay_erasures
from services.anonymity.index_feed import IndexFeed
from services.anonymity.index_reads import IndexReads
from services.anonymity.keys import load_master_keys
from services.anonymity.moderation import ModerationService
from services.anonymity.people import PhysicianFeed
from services.anonymity.ports import (
    AccessRecordWriter,
    AccountModeration,
    PersonaAttributesSource,
)
from services.anonymity.recorder import AccessRecorder
from services.anonymity.seed import seed_demo_aliases
from services.anonymity.service import AnonymityService
from services.anonymity.settings import AnonymitySettings
from services.anonymity.vault import Vault

log = logging.getLogger("consilium.anonymity")

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"
SERVICE_NAME = anonymity_pb2.DESCRIPTOR.services_by_name["AnonymityService"].full_name


@dataclass(frozen=True, slots=True)
class Anonymity:
    """The running parts of one anonymity instance."""

    settings: AnonymitySettings
    engine: AsyncEngine
    store: SqlAnonymityStore
    service: AnonymityService
    moderation: ModerationService
    keys: MasterKeys
    server: GrpcServer
    #: Bus, outbox relay and the identity consumer; built here, started by `serve()`
    #: (or by a test that wants events to flow), stopped after the gRPC server.
    events: EventRuntime
    #: The consumer's handler, for tests that feed identity events without a bus.
    identity_events: IdentityEventHandler
    #: Its signed audit chain heads: served by the server, published by `serve()`.
    audit: AuditProducer


def _auditor_check(
    tokens: RemoteTokenVerifier, live: LiveStaffCheck
) -> Callable[[], Awaitable[None]]:
    """GetAuditHead's gate: an AUDITOR token whose account identity still says is one."""

    async def authorize() -> None:
        claims = auditor_only(await tokens.claims(caller_token()))
        await live.require(claims, Role.AUDITOR)

    return authorize


def master_keys(settings: AnonymitySettings) -> MasterKeys:
    keys, source = load_master_keys(
        settings.data_dir,
        allow_dev_keys=settings.environment == "dev",
        env_json=settings.master_keys.get_secret_value() if settings.master_keys else None,
        file=settings.master_keys_file,
    )
    log.info("anonymity master keys: %s, active kid %s", source.value, keys.active_kid)
    return keys


@asynccontextmanager
async def build(
    settings: AnonymitySettings,
    *,
    attributes: PersonaAttributesSource | None = None,
    record_writer: AccessRecordWriter | None = None,
    accounts: AccountModeration | None = None,
    bus: EventBus | None = None,
) -> AsyncIterator[Anonymity]:
    """Everything wired and migrated, not yet serving; engine and channel closed on exit.

    The erasure log is replayed here, before the server or the consumers exist, so a
    database restored from an older backup never answers for a person erased since.

    The event runtime is built, not started: `serve()` starts it before the gRPC server
    and stops it after. Until started, events wait in the outbox (nothing is lost).
    For tests: `attributes` replaces identity as the persona fallback, `record_writer` the
    SQL record writer, `accounts` identity's account actions, `bus` the one from settings
    (Kafka when `CONSILIUM_KAFKA_BOOTSTRAP` is set, else the embedded bus in the data dir).
    """
    engine = db.create_engine(settings.resolved_database_url)
    credentials = ServiceCredentials.load(
        "anonymity", settings.data_dir, allow_dev=settings.environment == "dev"
    )
    identity = IdentityClient(settings.identity_address, credentials)
    try:
        await db.migrate(engine, MIGRATIONS)
        keys = master_keys(settings)
        signing_key = settings_signing_key(settings)
        chain = AuditChain(signing_key)
        vault = Vault(keys)
        events = EventRuntime(
            bus
            or create_bus(
                kafka_bootstrap=settings.kafka_bootstrap,
                data_dir=settings.data_dir,
                client_id="anonymity",
            ),
            engine,
            event_tables,
        )
        tokens = RemoteTokenVerifier(identity.jwks)
        live = identity.live_check(settings.staff_check_seconds)
        audit = await audit_producer(
            engine,
            chain=audit_chain,
            outbox=event_tables.outbox,
            producer=PRODUCER,
            key=signing_key,
            previous=settings_previous_key(settings),
            source=SOURCE,
            authorize=_auditor_check(tokens, live),
            head_interval=settings.audit_head_interval,
        )

        # The relay wakes on every commit that queued an event (plumbing.events.outbox); the
        # audit head publisher wants to know of those commits too.
        notify = audit.publisher.poke

        store = SqlAnonymityStore(engine, notify=notify)
        erasures = ErasureLog(settings.resolved_erasure_log)
        # First, before anything reads people's data (the freeze below included).
        await replay_erasures(store, vault, erasures)
        writer = record_writer or SqlAccessRecordWriter(engine, chain, notify=notify)
        recorder = AccessRecorder(writer, clock=_utc_now)
        fallback = CachedPersonaAttributes(
            attributes or identity,
            attributes_ttl=settings.attributes_cache_seconds,
            counts_ttl=settings.counts_cache_seconds,
        )
        source = StoredPersonaAttributes(store, vault, fallback=fallback)
        service = AnonymityService(
            store, vault, source, recorder, k=settings.k_anonymity, erasures=erasures, live=live
        )
        frozen = await freeze_existing_personas(service)
        if frozen:
            log.info("froze the personas of %d aliases made before freezing", frozen)
        moderation = ModerationService(
            store, vault, recorder, accounts=accounts or identity, live=live
        )
        feed = PhysicianFeed(vault, erasures, clock=_utc_now)
        handler = IdentityEventHandler(feed, notify=notify)
        events.consume(group=GROUP, topics=[IDENTITY_PHYSICIANS], handler=handler)
        # People's sealed indexes (notifications, own activity) from content's alias events.
        events.consume(
            group=INDEX_GROUP, topics=[CONTENT_POSTS], handler=ContentEventHandler(IndexFeed(vault))
        )
        servicer = AnonymityServicer(
            service, moderation, tokens, credentials, IndexReads(store, vault)
        )
        server = GrpcServer(
            component="anonymity",
            bindings=[
                ServiceBinding(
                    SERVICE_NAME,
                    anonymity_pb2_grpc.add_AnonymityServiceServicer_to_server,
                    servicer,
                ),
                audit.binding,
            ],
            address=settings.address,
            health_check=lambda: db.ping(engine),
            health_interval=settings.health_interval,
            grace=settings.shutdown_grace,
            # The gateway is anonymity's only caller; the user's token still decides what it may do.
            # Auditors reach GetAuditHead with their own token (checked by its servicer).
            callers=AdmitHeadReaders(CallerPolicy(credentials, default=("gateway",))),
        )
        yield Anonymity(
            settings, engine, store, service, moderation, keys, server, events, handler, audit
        )
    finally:
        await identity.close()
        await engine.dispose()


async def freeze_existing_personas(service: AnonymityService) -> int:
    """One-shot, idempotent: freezes the current persona of aliases that have none yet.

    Run at every start (a no-op once all are frozen); callable from a CLI as well.
    """
    return await service.freezer.freeze_existing()


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def serve(*, host: str | None = None, port: int | None = None) -> None:
    settings = load_settings(AnonymitySettings, host=host, port=port)
    start_process(settings)
    async with build(settings) as anonymity:
        anonymity.audit.publisher.start()
        try:
            await serve_until_signalled(anonymity.server, anonymity.events, settings)
        finally:
            await anonymity.audit.publisher.stop()


async def migrate() -> None:
    await migrate_database(AnonymitySettings().resolved_database_url, MIGRATIONS)


async def seed_demo() -> int:
    """Nothing to seed yet (see services.anonymity.seed); migrates so the schema exists."""
    settings = AnonymitySettings()
    engine = db.create_engine(settings.resolved_database_url)
    try:
        await db.migrate(engine, MIGRATIONS)
        return await seed_demo_aliases(SqlAnonymityStore(engine))
    finally:
        await engine.dispose()
