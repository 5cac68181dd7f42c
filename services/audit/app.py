"""Wires the audit service from settings and runs it: `consilium serve audit`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from consilium.audit.v1 import audit_pb2, audit_pb2_grpc
from plumbing import db
from plumbing.auditkeys import AuditSigningKey, component_signing_key
from plumbing.auditlink import load_tag_key, subject_tag
from plumbing.auth.remote import RemoteTokenVerifier
from plumbing.auth.service import ServiceCredentials
from plumbing.component import load_settings, migrate_database, serve_until_signalled, start_process
from plumbing.events.bus import EventBus
from plumbing.events.factory import create_bus
from plumbing.events.runtime import EventRuntime
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS
from plumbing.grpc.server import GrpcServer, ServiceBinding
from services.audit.adapters.access_events import GROUP, AccessEventHandler
from services.audit.adapters.identity_keys import IdentityKeysClient
from services.audit.adapters.index_check import SqlIndexAudit
from services.audit.adapters.ledger_key import ledger_signer
from services.audit.adapters.query_records import PRODUCER, QueryRecords
from services.audit.adapters.servicer import AuditServicer
from services.audit.adapters.store import SqlLedger
from services.audit.adapters.tables import event_tables
from services.audit.adapters.tlog_store import SqlLogStore
from services.audit.adapters.trusted_keys import PinnedKeyDirectory, TrustedKeyDirectory
from services.audit.checks import LedgerChecks
from services.audit.domain.producers import ProducerConfigError, ProducerPins, parse_producers
from services.audit.service import AuditService
from services.audit.settings import AuditSettings
from services.audit.transparency import TransparencyLog

log = logging.getLogger("consilium.audit")
MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"
SERVICE_NAME = audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name


@dataclass(frozen=True, slots=True)
class Audit:
    """The running parts of one audit instance.

    `events` (bus and the consumer of `audit.identity-access.v1`) is built, not started:
    `serve()` starts it before the gRPC server and stops it after; a test that wants events
    ingested starts it, or feeds `access_events` directly inside a transaction.
    """

    settings: AuditSettings
    engine: AsyncEngine
    ledger: SqlLedger
    service: AuditService
    server: GrpcServer
    events: EventRuntime
    access_events: AccessEventHandler
    tlog: TransparencyLog


def own_signing_key(settings: AuditSettings, pins: ProducerPins) -> AuditSigningKey:
    """The key of the ledger's own chain (producer "audit"); with pins, it must be pinned."""
    secret = settings.audit_signing_key
    key = component_signing_key(
        PRODUCER,
        settings.data_dir,
        dev=settings.environment == "dev",
        env_pem=secret.get_secret_value() if secret else None,
        file=settings.audit_signing_key_file,
    )
    if pins.configured and not pins.allows(PRODUCER, key.key_id):
        # Every auditor query would land in a chain verification calls unknown or forged.
        raise ProducerConfigError(
            f"CONSILIUM_AUDIT_PRODUCERS must pin the ledger's own producer: "
            f'"{PRODUCER}": ["{key.key_id}"] (or its public PEM)'
        )
    return key


@asynccontextmanager
async def build(settings: AuditSettings, *, bus: EventBus | None = None) -> AsyncIterator[Audit]:
    """Everything wired and migrated, not yet serving; engine and channel closed on exit."""
    engine = db.create_engine(settings.resolved_database_url)
    # Audit's own service credential: it presents itself (never another service) to ask
    # identity's CheckActor whether an auditor still holds the role.
    credentials = ServiceCredentials.load(
        "audit", settings.data_dir, allow_dev=settings.environment == "dev"
    )
    identity = IdentityKeysClient(settings.identity_address, credentials)
    try:
        await db.migrate(engine, MIGRATIONS)
        events = EventRuntime(
            bus
            or create_bus(
                kafka_bootstrap=settings.kafka_bootstrap,
                data_dir=settings.data_dir,
                client_id="audit",
            ),
            engine,
            event_tables,
        )
        handler = AccessEventHandler()
        events.consume(group=GROUP, topics=[AUDIT_IDENTITY_ACCESS], handler=handler)
        ledger = SqlLedger(engine)
        text, origin = settings.producers_config()
        pins = parse_producers(text, origin=origin)
        if not pins.configured and settings.environment == "production":
            raise ProducerConfigError(
                "set CONSILIUM_AUDIT_PRODUCERS (or _FILE): in production the ledger verifies "
                'against pinned producers, {"<producer>": ["<PEM public key or key id>"]}'
            )
        if not pins.configured:
            log.warning(
                "audit: no CONSILIUM_AUDIT_PRODUCERS: no producer is expected and every trusted "
                "key is accepted for every producer (dev only)"
            )
        own_key = own_signing_key(settings, pins)
        # The ledger trusts its own public key without the operator mounting it.
        keys = PinnedKeyDirectory(
            TrustedKeyDirectory(settings.resolved_trusted_keys_dir),
            {**pins.inline_keys, own_key.key_id: own_key.private_key.public_key()},
        )
        signer = ledger_signer(
            settings.data_dir,
            dev=settings.environment == "dev",
            pem=settings.checkpoint_key.get_secret_value() if settings.checkpoint_key else None,
            file=settings.checkpoint_key_file,
        )
        tlog = TransparencyLog(SqlLogStore(engine), keys, pins, signer)
        checks = LedgerChecks(pins, SqlIndexAudit(engine), tlog, own=PRODUCER)
        tag_key = load_tag_key(settings.data_dir, allow_dev=settings.environment == "dev")
        service = AuditService(
            ledger, keys, checks, tag=lambda user_id: subject_tag(tag_key, user_id)
        )
        servicer = AuditServicer(
            service,
            RemoteTokenVerifier(identity.jwks),
            tlog,
            identity.live_check(settings.staff_check_seconds),
            QueryRecords(engine, own_key, tag_key),
        )
        server = GrpcServer(
            component="audit",
            bindings=[
                ServiceBinding(
                    SERVICE_NAME, audit_pb2_grpc.add_AuditServiceServicer_to_server, servicer
                )
            ],
            address=settings.address,
            health_check=lambda: db.ping(engine),
            health_interval=settings.health_interval,
            grace=settings.shutdown_grace,
        )
        yield Audit(settings, engine, ledger, service, server, events, handler, tlog)
    finally:
        await identity.close()
        await engine.dispose()


async def serve(*, host: str | None = None, port: int | None = None) -> None:
    settings = load_settings(AuditSettings, host=host, port=port)
    start_process(settings)
    async with build(settings) as audit:
        cadence = asyncio.create_task(audit.tlog.run(settings.checkpoint_interval))
        try:
            await serve_until_signalled(audit.server, audit.events, settings)
        finally:
            cadence.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await cadence


async def migrate() -> None:
    await migrate_database(AuditSettings().resolved_database_url, MIGRATIONS)


async def seed_demo() -> int:
    """The ledger has no demo data: it holds only what producers recorded."""
    return 0
