"""Erasure reaches identity's events (P6): nothing retained on a topic names the person."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import grpc
import pytest
from identity_harness import PASSWORD, IdentityClient, next_npi, running
from support.identity_server import FAST_ARGON2

from consilium.identity.v1 import identity_pb2 as pb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.topics import topic_specs
from services.identity.app import build
from services.identity.domain.physician import Role
from services.identity.settings import IdentitySettings


@pytest.fixture
async def on_embedded_bus(
    identity_settings: IdentitySettings, tmp_path: Path
) -> AsyncIterator[IdentityClient]:
    bus = EmbeddedBus(tmp_path / "bus" / "events.db")
    await bus.start()
    await bus.create_topics(topic_specs())
    try:
        async with running(identity_settings, bus=bus) as client:
            yield client
    finally:
        await bus.close()


def bus_bytes(path: Path) -> list[bytes]:
    """Every key, value and header of every record on the embedded bus, raw."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT key, value, headers FROM records").fetchall()
    return [
        b"".join(bytes(part or b"") if not isinstance(part, str) else part.encode() for part in row)
        for row in rows
    ]


async def test_no_retained_event_names_an_erased_person(
    on_embedded_bus: IdentityClient, tmp_path: Path
) -> None:
    identity = on_embedded_bus
    canary = uuid.uuid4().hex[:10]
    name, email, npi = f"Dr. Canary Erasable {canary}", f"erase.{canary}@example.org", next_npi()
    _, admin = await identity.staff(Role.ADMIN)
    member = await identity.register(full_name=name, email=email, npi=npi)
    await identity.stub.VerifyPhysician(
        pb.VerifyPhysicianRequest(user_id=member.user_id, approve=True), metadata=admin
    )
    await identity.stub.GetPhysician(pb.GetPhysicianRequest(user_id=member.user_id), metadata=admin)
    await identity.stub.ErasePhysician(
        pb.ErasePhysicianRequest(user_id=member.user_id), metadata=admin
    )
    assert await identity.instance.events.relay.publish_pending() >= 4

    records = bus_bytes(tmp_path / "bus" / "events.db")
    assert any(member.user_id.encode() in r for r in records)  # the scan sees the person's events
    for record in records:
        for secret in (name, f"Canary Erasable {canary}", email, npi):
            assert secret.encode() not in record


def backup(database: Path, to: Path) -> None:
    """A consistent copy of a live SQLite database (what a nightly backup would hold)."""
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(to)) as target:
        source.backup(target)


def restore(copy: Path, database: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.write_bytes(copy.read_bytes())


async def test_a_restore_from_backup_erases_the_person_again_before_serving(
    tmp_path: Path,
) -> None:
    database = tmp_path / "identity.db"
    settings = IdentitySettings(
        database_url=f"sqlite+aiosqlite:///{database}",
        data_dir=tmp_path / "data",
        port=0,
        **FAST_ARGON2,  # type: ignore[arg-type]
    )
    canary = uuid.uuid4().hex[:10]
    name, email = f"Dr. Restored Canary {canary}", f"restore.{canary}@example.org"
    async with running(settings) as identity:
        _, admin = await identity.staff(Role.ADMIN)
        member = await identity.register(full_name=name, email=email)
        # Audited, so the backup also holds the person's audit sealing key.
        await identity.stub.GetPhysician(
            pb.GetPhysicianRequest(user_id=member.user_id), metadata=admin
        )
        backup(database, tmp_path / "before-erasure.db")
        await identity.stub.ErasePhysician(
            pb.ErasePhysicianRequest(user_id=member.user_id), metadata=admin
        )

    restore(tmp_path / "before-erasure.db", database)
    with closing(sqlite3.connect(database)) as conn:  # the backup brought the person back
        assert conn.execute(
            "SELECT email FROM physicians WHERE user_id = ?", (member.user_id,)
        ).fetchone() == (email,)

    async with build(settings) as instance:
        # Built, not yet serving: the replay has already run.
        with closing(sqlite3.connect(database)) as conn:
            row = conn.execute(
                "SELECT email, full_name, npi, erased_at FROM physicians WHERE user_id = ?",
                (member.user_id,),
            ).fetchone()
            keys = conn.execute(
                "SELECT COUNT(*) FROM audit_subject_keys WHERE user_id = ?", (member.user_id,)
            ).fetchone()
            erased_events = conn.execute(
                "SELECT COUNT(*) FROM outbox WHERE event_key = ? AND event_type = ?",
                (member.user_id, "consilium.events.v1.PhysicianErased"),
            ).fetchone()
        assert row[:3] == (None, None, None) and row[3] is not None
        assert keys == (0,)
        # Anonymity hears of the erasure again (the backup predates the first event), so it
        # shreds whatever its own restore revived.
        assert erased_events == (1,)
        port = await instance.server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = identity_pb2_grpc.IdentityServiceStub(channel)
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await stub.Login(pb.LoginRequest(email=email, password=PASSWORD))
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        finally:
            await instance.server.stop()

    # The log itself names nobody: a blind tag and a time per erasure.
    log = (settings.data_dir / "identity" / "erasure-log.jsonl").read_bytes()
    for secret in (member.user_id, name, email, member.npi):
        assert secret.encode() not in log
