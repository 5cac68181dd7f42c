"""Wires the anonymity service from settings and runs it: `consilium serve anonymity`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from consilium.anonymity.v1 import anonymity_pb2, anonymity_pb2_grpc
from plumbing import db
from plumbing.auth.service import ServiceCredentials
from plumbing.grpc.server import GrpcServer, ServiceBinding, run_until_signalled
from plumbing.logging import configure_logging
from plumbing.telemetry import setup_telemetry
from services.anonymity.adapters.cache import CachedPersonaAttributes
from services.anonymity.adapters.callers import CallerAuthenticator
from services.anonymity.adapters.identity_client import IdentityClient
from services.anonymity.adapters.servicer import AnonymityServicer
from services.anonymity.adapters.store import SqlAccessRecordWriter, SqlAnonymityStore
from services.anonymity.domain.crypto import MasterKeys
from services.anonymity.keys import load_master_keys
from services.anonymity.moderation import ModerationService
from services.anonymity.ports import AccessRecordWriter, PersonaAttributesSource
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
) -> AsyncIterator[Anonymity]:
    """Everything wired and migrated, not yet serving; engine and channel closed on exit.

    `attributes` and `record_writer` replace identity and the SQL record writer (tests).
    """
    engine = db.create_engine(settings.resolved_database_url)
    credentials = ServiceCredentials.load(
        settings.data_dir, allow_dev=settings.environment == "dev"
    )
    identity = IdentityClient(settings.identity_address, credentials)
    try:
        await db.migrate(engine, MIGRATIONS)
        keys = master_keys(settings)
        vault = Vault(keys)
        store = SqlAnonymityStore(engine)
        recorder = AccessRecorder(record_writer or SqlAccessRecordWriter(engine), clock=_utc_now)
        source = CachedPersonaAttributes(
            attributes or identity,
            attributes_ttl=settings.attributes_cache_seconds,
            counts_ttl=settings.counts_cache_seconds,
        )
        service = AnonymityService(store, vault, source, recorder, k=settings.k_anonymity)
        moderation = ModerationService(store, vault, recorder)
        servicer = AnonymityServicer(
            service, moderation, CallerAuthenticator(identity.jwks), credentials
        )
        server = GrpcServer(
            component="anonymity",
            bindings=[
                ServiceBinding(
                    SERVICE_NAME,
                    anonymity_pb2_grpc.add_AnonymityServiceServicer_to_server,
                    servicer,
                )
            ],
            address=settings.address,
            health_check=lambda: db.ping(engine),
            health_interval=settings.health_interval,
            grace=settings.shutdown_grace,
        )
        yield Anonymity(settings, engine, store, service, moderation, keys, server)
    finally:
        await identity.close()
        await engine.dispose()


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def serve(*, host: str | None = None, port: int | None = None) -> None:
    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = AnonymitySettings(**overrides)  # type: ignore[arg-type]
    configure_logging("anonymity", level=settings.log_level, fmt=settings.log_format)
    setup_telemetry("anonymity")
    async with build(settings) as anonymity:
        await run_until_signalled(anonymity.server)


async def migrate() -> None:
    settings = AnonymitySettings()
    engine = db.create_engine(settings.resolved_database_url)
    try:
        await db.migrate(engine, MIGRATIONS)
    finally:
        await engine.dispose()


async def seed_demo() -> int:
    """Nothing to seed yet (see services.anonymity.seed); migrates so the schema exists."""
    settings = AnonymitySettings()
    engine = db.create_engine(settings.resolved_database_url)
    try:
        await db.migrate(engine, MIGRATIONS)
        return await seed_demo_aliases(SqlAnonymityStore(engine))
    finally:
        await engine.dispose()
