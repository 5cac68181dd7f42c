"""`consilium privacy migrate`: names already on retained events are purged (P6).

Events published before PhysicianRegistered lost its name still carry it: on the embedded
bus (kept for the topic's retention), in its dead letters, and in identity's outbox. The
command rewrites them without the name and leaves everything else as it was.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from identity_harness import running
from sqlalchemy import update
from support.identity_server import FAST_ARGON2
from typer.testing import CliRunner

from cli.main import app
from consilium.events.v1 import identity_events_pb2 as ev
from plumbing.events.bus import TopicSpec
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.envelope import new_event
from plumbing.events.factory import embedded_path
from plumbing.events.kafka import KafkaBus
from plumbing.events.topics import IDENTITY_PHYSICIANS, topic_specs
from services.identity.adapters.tables import event_tables
from services.identity.privacy import delete_consumed
from services.identity.settings import IdentitySettings


def with_old_name(message: ev.PhysicianRegistered, name: str) -> bytes:
    """The payload as identity wrote it before field 2 (full_name) was removed."""
    encoded = name.encode()
    return message.SerializeToString() + b"\x12" + bytes([len(encoded)]) + encoded


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return list(conn.execute(sql).fetchall())


async def test_names_on_retained_events_are_purged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    database = tmp_path / "identity.db"
    settings = IdentitySettings(
        database_url=f"sqlite+aiosqlite:///{database}",
        data_dir=data_dir,
        port=0,
        **FAST_ARGON2,  # type: ignore[arg-type]
    )
    name = f"Dr. Legacy Canary {uuid.uuid4().hex[:8]}"
    bus = EmbeddedBus(embedded_path(data_dir))
    await bus.start()
    await bus.create_topics(topic_specs())
    async with running(settings, bus=bus) as identity:
        member = await identity.register(full_name=name)
        old = with_old_name(
            ev.PhysicianRegistered(user_id=member.user_id, specialty_code="207RC0000X"), name
        )
        # Identity's outbox as an older version left it, then relayed to the bus.
        async with identity.instance.engine.begin() as conn:
            await conn.execute(update(event_tables.outbox).values(data=old))
        assert await identity.instance.events.relay.publish_pending() == 1
        # A dead letter of the same event, as anonymity's consumer would have parked it.
        registered = new_event(
            ev.PhysicianRegistered(user_id=member.user_id),
            topic=IDENTITY_PHYSICIANS,
            key=member.user_id,
            source="/consilium/identity",
        )
        await bus.publish_raw(
            f"{IDENTITY_PHYSICIANS}.dlq", member.user_id.encode(), old, registered.headers()
        )
        untouched = new_event(
            ev.PhysicianSuspended(user_id=member.user_id),
            topic=IDENTITY_PHYSICIANS,
            key=member.user_id,
            source="/consilium/identity",
        )
        await bus.publish([untouched])
    await bus.close()
    bus_file = embedded_path(data_dir)
    before = rows(
        bus_file, 'SELECT topic, partition, "offset", key, headers FROM records ORDER BY 1, 2, 3'
    )
    assert (
        sum(name.encode() in bytes(v) for (v,) in rows(bus_file, "SELECT value FROM records")) == 2
    )

    monkeypatch.setenv("CONSILIUM_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CONSILIUM_IDENTITY_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.delenv("CONSILIUM_KAFKA_BOOTSTRAP", raising=False)
    # In a thread: the command runs its own event loop, as from a shell.
    result = await asyncio.to_thread(CliRunner().invoke, app, ["privacy", "migrate"])
    assert result.exit_code == 0, result.output
    assert "3 events rewritten" in result.output  # outbox 1, bus 1, dead letters 1

    for (value,) in rows(bus_file, "SELECT value FROM records"):
        assert name.encode() not in bytes(value)
    for (data,) in rows(database, "SELECT data FROM outbox"):
        assert name.encode() not in bytes(data)
    # Only the names went: same records, offsets, keys and headers; payloads still decode.
    assert (
        rows(
            bus_file,
            'SELECT topic, partition, "offset", key, headers FROM records ORDER BY 1, 2, 3',
        )
        == before
    )
    payloads = [
        ev.PhysicianRegistered.FromString(bytes(v))
        for (v,) in rows(database, "SELECT data FROM outbox")
    ]
    assert [(p.user_id, p.specialty_code) for p in payloads] == [(member.user_id, "207RC0000X")]

    # Running it again finds nothing left to do.
    again = await asyncio.to_thread(CliRunner().invoke, app, ["privacy", "migrate"])
    assert again.exit_code == 0 and "0 events rewritten" in again.output


@pytest.mark.kafka
async def test_on_kafka_only_what_the_consumer_processed_is_deleted(kafka_bootstrap: str) -> None:
    """DeleteRecords up to the group's committed offsets: processed names go, nothing else."""
    topic = f"test.{uuid.uuid4().hex[:10]}.v1"
    group = f"privacy-{uuid.uuid4().hex[:8]}"
    bus = KafkaBus(kafka_bootstrap, client_id=f"privacy-{uuid.uuid4().hex[:8]}")
    await bus.create_topics([TopicSpec(topic, partitions=1)])
    await bus.start()
    try:
        sent = [
            new_event(ev.PhysicianErased(user_id=f"usr_{i}"), topic=topic, key="k", source="/t")
            for i in range(3)
        ]
        await bus.publish(sent[:2])
        reader = await bus.subscribe(group=group, topics=[topic])
        processed = []
        deadline = asyncio.get_running_loop().time() + 30
        while len(processed) < 2 and asyncio.get_running_loop().time() < deadline:
            processed.extend(await reader.fetch(max_records=10, wait=0.5))
        await reader.commit(processed)
        await reader.close()
        await bus.publish(sent[2:])  # not yet processed: it must stay

        assert await delete_consumed(kafka_bootstrap, topic=topic, group=group) == 1

        fresh = await bus.subscribe(group=f"fresh-{uuid.uuid4().hex[:8]}", topics=[topic])
        left = []
        deadline = asyncio.get_running_loop().time() + 30
        while not left and asyncio.get_running_loop().time() < deadline:
            left.extend(await fresh.fetch(max_records=10, wait=0.5))
        await fresh.close()
        assert [r.event.id for r in left if r.event] == [sent[2].id]
    finally:
        await bus.close()
