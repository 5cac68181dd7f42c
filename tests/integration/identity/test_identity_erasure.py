"""Erasure reaches identity's events (P6): nothing retained on a topic names the person."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from identity_harness import IdentityClient, next_npi, running

from consilium.identity.v1 import identity_pb2 as pb
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.topics import topic_specs
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
    with sqlite3.connect(path) as conn:
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
