"""Erasure reaches identity's events (P6): nothing retained on a topic names the person."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from identity_harness import PASSWORD, IdentityClient, next_npi, running
from sqlalchemy import text
from sqlalchemy.engine import make_url

from consilium.identity.v1 import identity_pb2 as pb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing import db
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.topics import topic_specs
from plumbing.grpc.caller import bearer_metadata
from services.identity.app import Identity, build
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


class Backups:
    """Backs a database up and restores it: a file copy for SQLite, a template database
    for PostgreSQL (each taken while identity is stopped, as a cold backup would be)."""

    def __init__(self, url: str, admin_url: str | None, tmp_path: Path) -> None:
        self.url = url
        self._admin_url = admin_url
        self._copy = tmp_path / "backup.db"

    @property
    def _sqlite(self) -> Path:
        return Path(self.url.removeprefix("sqlite+aiosqlite:///"))

    async def _admin(self, statement: str) -> None:
        assert self._admin_url is not None
        url = make_url(self._admin_url)
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
        )
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    def _copy_file(self) -> None:
        with (
            closing(sqlite3.connect(self._sqlite)) as source,
            closing(sqlite3.connect(self._copy)) as target,
        ):
            source.backup(target)

    def _restore_file(self) -> None:
        for suffix in ("-wal", "-shm"):
            Path(f"{self._sqlite}{suffix}").unlink(missing_ok=True)
        self._sqlite.write_bytes(self._copy.read_bytes())

    async def backup(self) -> None:
        if self._admin_url is None:
            await asyncio.to_thread(self._copy_file)
            return
        name = make_url(self.url).database
        await self._admin(f'CREATE DATABASE "{name}_bak" TEMPLATE "{name}"')

    async def restore(self) -> None:
        if self._admin_url is None:
            await asyncio.to_thread(self._restore_file)
            return
        name = make_url(self.url).database
        await self._admin(f'DROP DATABASE "{name}" WITH (FORCE)')
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{name}_bak"')
        await self._admin(f'DROP DATABASE "{name}_bak"')


@pytest.fixture
def backups(
    identity_settings: IdentitySettings, request: pytest.FixtureRequest, tmp_path: Path
) -> Backups:
    url = identity_settings.resolved_database_url
    admin = request.getfixturevalue("postgres_url") if url.startswith("postgresql") else None
    return Backups(url, admin, tmp_path)


async def test_a_restore_from_backup_erases_the_person_again_before_serving(
    identity_settings: IdentitySettings, backups: Backups
) -> None:
    settings = identity_settings
    canary = uuid.uuid4().hex[:10]
    name, email = f"Dr. Restored Canary {canary}", f"restore.{canary}@example.org"
    async with running(settings) as identity:
        admin_id, _ = await identity.staff(Role.ADMIN)
        admin = bearer_metadata(await identity.login(f"{admin_id[4:16]}@staff.example.org"))
        member = await identity.register(full_name=name, email=email)
        # Audited, so the backup also holds the person's audit sealing key.
        await identity.stub.GetPhysician(
            pb.GetPhysicianRequest(user_id=member.user_id), metadata=admin
        )
    await backups.backup()
    async with running(settings) as identity:
        admin = bearer_metadata(await identity.login(f"{admin_id[4:16]}@staff.example.org"))
        await identity.stub.ErasePhysician(
            pb.ErasePhysicianRequest(user_id=member.user_id), metadata=admin
        )
    await backups.restore()

    async def person(instance: Identity) -> tuple[Any, ...]:
        async with instance.engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT email, full_name, npi, erased_at FROM physicians WHERE user_id = :u"
                    ),
                    {"u": member.user_id},
                )
            ).one()
            keys = await conn.scalar(
                text("SELECT COUNT(*) FROM audit_subject_keys WHERE user_id = :u"),
                {"u": member.user_id},
            )
            erased_events = await conn.scalar(
                text("SELECT COUNT(*) FROM outbox WHERE event_key = :u AND event_type = :t"),
                {"u": member.user_id, "t": "consilium.events.v1.PhysicianErased"},
            )
        return (*row, keys, erased_events)

    engine = db.create_engine(backups.url)
    try:  # the backup brought the person back, and their audit sealing key
        async with engine.connect() as conn:
            restored = await conn.scalar(
                text("SELECT email FROM physicians WHERE user_id = :u"), {"u": member.user_id}
            )
            keys = await conn.scalar(text("SELECT COUNT(*) FROM audit_subject_keys"))
        assert restored == email and keys >= 1
    finally:
        await engine.dispose()

    async with build(settings) as instance:
        # Built, not yet serving: the replay has already run.
        email_now, name_now, npi_now, erased_at, keys_now, erased_events = await person(instance)
        assert (email_now, name_now, npi_now) == (None, None, None) and erased_at is not None
        assert keys_now == 0
        # Anonymity hears of the erasure again (the backup predates the first event), so it
        # shreds whatever its own restore revived.
        assert erased_events == 1
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
