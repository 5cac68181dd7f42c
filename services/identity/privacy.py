"""Purging names from events published before PhysicianRegistered lost its name (P6).

Older versions put the physician's full name in PhysicianRegistered (field 2, now reserved).
Such events outlive the person's erasure wherever they are retained: identity's outbox,
the embedded bus (for its retention) and its dead letters, and Kafka (for the topic's
retention, 30 days). `consilium privacy migrate` runs `migrate_privacy` once after the
upgrade: it rewrites the outbox rows and embedded-bus records without the name, and on
Kafka, which cannot rewrite a record, deletes what the consumer group `anonymity` has
already processed (when asked to), or else leaves the retention to age the rest out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.structs import TopicPartition
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from consilium.events.v1 import identity_events_pb2 as ev
from plumbing import db
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.factory import embedded_path
from plumbing.events.kafka import start_client
from plumbing.events.kafka_security import KafkaSecurity
from plumbing.events.topics import IDENTITY_PHYSICIANS
from services.identity.adapters.tables import event_tables
from services.identity.settings import IdentitySettings

REGISTERED = ev.PhysicianRegistered.DESCRIPTOR.full_name
#: The group whose committed offsets say what on Kafka is processed and may go.
CONSUMER_GROUP = "anonymity"


@dataclass(frozen=True, slots=True)
class PrivacyReport:
    """What one run changed: rewritten events per place, and Kafka records deleted."""

    outbox: int
    embedded_bus: int
    kafka_deleted: int | None  # None: Kafka not touched

    @property
    def rewritten(self) -> int:
        return self.outbox + self.embedded_bus


def without_name(data: bytes) -> bytes | None:
    """The PhysicianRegistered payload without any field the proto no longer has, or None
    if there was nothing to remove."""
    message = ev.PhysicianRegistered.FromString(data)
    message.DiscardUnknownFields()
    clean = message.SerializeToString()
    return clean if clean != data else None


def _purged(headers: Sequence[tuple[str, bytes]], value: bytes | None) -> bytes | None:
    kind = dict(headers).get("ce_type", b"").decode(errors="replace")
    if kind != REGISTERED or not value:
        return None
    return without_name(value)


async def purge_outbox(engine: AsyncEngine) -> int:
    """Rewrites identity's outbox rows of PhysicianRegistered (sent or not) without names."""
    table = event_tables.outbox
    changed = 0
    async with engine.begin() as conn:
        found = await conn.execute(
            select(table.c.position, table.c.data).where(table.c.event_type == REGISTERED)
        )
        for position, data in found.all():
            clean = without_name(bytes(data))
            if clean is not None:
                await conn.execute(
                    update(table).where(table.c.position == position).values(data=clean)
                )
                changed += 1
    return changed


async def purge_embedded_bus(bus: EmbeddedBus) -> int:
    """Rewrites the topic's and its dead letters' PhysicianRegistered records in place."""
    topics = [IDENTITY_PHYSICIANS, f"{IDENTITY_PHYSICIANS}.dlq"]
    return await bus.rewrite_values(topics, _purged)


async def delete_consumed(
    bootstrap: str, *, topic: str = IDENTITY_PHYSICIANS, group: str = CONSUMER_GROUP
) -> int:
    """Deletes the records of `topic` that `group` has committed past.

    Kafka cannot rewrite a record; it can drop a partition's prefix (DeleteRecords). Only
    what the consumer has processed goes, so no event is lost to it. Returns the number of
    partitions trimmed.
    """
    security = KafkaSecurity.from_env()
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="consilium-privacy", **security.client_args()
    )
    try:
        await start_client(admin, bootstrap, security)
        committed = await admin.list_consumer_group_offsets(group)
        cut = {
            TopicPartition(tp.topic, tp.partition): RecordsToDelete(before_offset=meta.offset)
            for tp, meta in committed.items()
            if tp.topic == topic and meta.offset > 0
        }
        if cut:
            await admin.delete_records(cut)
        return len(cut)
    finally:
        await admin.close()


async def migrate_privacy(
    settings: IdentitySettings, *, delete_consumed_on_kafka: bool = False
) -> PrivacyReport:
    """The one-shot purge (safe to run again: a second run finds nothing to change)."""
    engine = db.create_engine(settings.resolved_database_url)
    try:
        outbox = await purge_outbox(engine)
    finally:
        await engine.dispose()
    if settings.kafka_bootstrap:
        deleted = (
            await delete_consumed(settings.kafka_bootstrap) if delete_consumed_on_kafka else None
        )
        return PrivacyReport(outbox, 0, deleted)
    bus = EmbeddedBus(embedded_path(settings.data_dir))
    await bus.start()
    try:
        return PrivacyReport(outbox, await purge_embedded_bus(bus), None)
    finally:
        await bus.close()
