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
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.envelope import new_event
from plumbing.events.factory import embedded_path
from plumbing.events.topics import IDENTITY_PHYSICIANS, topic_specs
from services.identity.adapters.tables import event_tables
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
