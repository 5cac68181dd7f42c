"""Wires the content service from settings and runs it: `consilium serve content`.

Events: `build()` wires the event runtime (bus client, outbox relay, the `content` consumer
group on `anonymity.aliases.v1`) but does not start it, so code that only needs the gRPC
server and the database (the integration and e2e harnesses) runs without a bus; writes
still queue their events in the outbox. `serve()` starts it before the gRPC server and
stops it after the server has stopped. Tests that want events start `content.events`
themselves (all of it, or only its bus to drive the relay by hand). The topics come from
`consilium topics create` (`consilium dev` runs it); until they exist the relay and the
consumer retry, and writes keep landing in the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from consilium.content.v1 import content_pb2, content_pb2_grpc
from plumbing import db
from plumbing.auth.service import CallerPolicy, ServiceCredentials
from plumbing.component import load_settings, migrate_database, serve_until_signalled, start_process
from plumbing.events.factory import create_bus
from plumbing.events.runtime import EventRuntime
from plumbing.grpc.server import GrpcServer, ServiceBinding
from services.content.adapters import alias_events
from services.content.adapters.servicer import ContentServicer
from services.content.adapters.store import SqlContentStore
from services.content.adapters.tables import event_tables
from services.content.engagement import EngagementService
from services.content.reports import ReportService
from services.content.revisions import RevisionService
from services.content.service import ContentService
from services.content.settings import ContentSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"
SERVICE_NAME = content_pb2.DESCRIPTOR.services_by_name["ContentService"].full_name


@dataclass(frozen=True, slots=True)
class Content:
    """The running parts of one content instance."""

    settings: ContentSettings
    engine: AsyncEngine
    store: SqlContentStore
    service: ContentService
    engagement: EngagementService
    server: GrpcServer
    #: Not started by `build()`: see the module docstring.
    events: EventRuntime


#: Database drivers log statements with their parameters at DEBUG and INFO; parameters hold
#: alias ids, viewer alias sets (which link one person's aliases) and post text.
_PARAMETER_LOGGERS = ("aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool")


def _silence_parameter_logging() -> None:
    for name in _PARAMETER_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def caller_policy(credentials: ServiceCredentials) -> CallerPolicy:
    """Only the gateway calls content; hiding reaches content only as anonymity's alias events,
    so SetAliasHidden is offered to no caller."""
    return CallerPolicy(credentials, default=("gateway",), methods={"SetAliasHidden": ()})


@asynccontextmanager
async def build(settings: ContentSettings) -> AsyncIterator[Content]:
    """Everything wired and migrated, not yet serving; the engine is disposed on exit."""
    _silence_parameter_logging()
    engine = db.create_engine(settings.resolved_database_url)
    try:
        await db.migrate(engine, MIGRATIONS)
        bus = create_bus(
            kafka_bootstrap=settings.kafka_bootstrap,
            data_dir=settings.data_dir,
            client_id="content",
        )
        events = EventRuntime(bus, engine, event_tables)
        store = SqlContentStore(engine, on_announced=events.relay.notify)
        events.consume(
            group=alias_events.GROUP,
            topics=alias_events.TOPICS,
            handler=alias_events.AliasEventHandler(store),
        )
        service = ContentService(store)
        engagement = EngagementService(store)
        credentials = ServiceCredentials.load(
            "content", settings.data_dir, allow_dev=settings.environment == "dev"
        )
        server = GrpcServer(
            component="content",
            bindings=[
                ServiceBinding(
                    SERVICE_NAME,
                    content_pb2_grpc.add_ContentServiceServicer_to_server,
                    ContentServicer(
                        service, engagement, RevisionService(store), ReportService(store)
                    ),
                )
            ],
            address=settings.address,
            health_check=lambda: db.ping(engine),
            health_interval=settings.health_interval,
            grace=settings.shutdown_grace,
            # Content must not learn who asks: it never sees the caller's metadata (P1).
            keep_caller_metadata=False,
            callers=caller_policy(credentials),
        )
        yield Content(settings, engine, store, service, engagement, server, events)
    finally:
        await engine.dispose()


async def serve(*, host: str | None = None, port: int | None = None) -> None:
    settings = load_settings(ContentSettings, host=host, port=port)
    start_process(settings)
    async with build(settings) as content:
        await serve_until_signalled(content.server, content.events, settings)


async def migrate() -> None:
    """Creates or upgrades the schema; the communities come with it (migration 0002)."""
    await migrate_database(ContentSettings().resolved_database_url, MIGRATIONS)


async def seed_demo() -> int:
    """Seeds no demo posts: a post needs an author alias that anonymity knows, so demo posts
    are made by the gateway's seed once anonymity runs (made-up aliases would render as
    unknown authors). The communities exist already: migration 0002 creates them."""
    return 0
