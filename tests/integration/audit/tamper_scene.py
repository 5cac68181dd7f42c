"""A ledger with pinned producers and an auditor who verifies it: the scene of the tamper tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit_harness import Ledger, Producer, audit_settings, publish_key, running_ledger
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli.audit import Options, run_verify
from cli.audit.verify import Outcome
from consilium.audit.v1 import audit_pb2 as pb
from plumbing.auth import Role
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.factory import embedded_path
from plumbing.signingkeys import SigningKey, private_pem
from services.audit.settings import AuditSettings
from services.identity.app import Identity


def pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class Scene:
    """A ledger with pinned producers `identity` (5 events) and `anonymity` (3 events)."""

    ledger: Ledger
    settings: AuditSettings
    identity: Producer
    anonymity: Producer
    producers_file: Path
    state_file: Path

    async def verify(self, *, state: bool = True) -> Outcome:
        token = dict(await self.ledger.token(Role.AUDITOR))["authorization"].split()[1]
        options = Options(
            token,
            f"127.0.0.1:{self.ledger.instance.server.port}",
            producers=self.producers_file,
            data_dir=self.settings.data_dir,
        )
        return await run_verify(options, state_file=self.state_file if state else None)

    async def replace(self, event: pb.AuditEvent, *, at: int | None = None) -> None:
        """Overwrites the stored bytes of the row at `event`'s (or `at`'s) sequence."""
        await self.ledger.execute(
            "UPDATE audit_events SET data = :data WHERE producer = :p AND sequence = :s",
            data=event.SerializeToString(deterministic=True),
            p=event.producer,
            s=at if at is not None else event.sequence,
        )


def kinds(outcome: Outcome, producer: str = "identity") -> set[str]:
    return {f.kind for f in outcome.findings if f.producer == producer}


@asynccontextmanager
async def restarted_ledger(settings: AuditSettings, identity: Identity) -> AsyncIterator[Ledger]:
    data_dir = settings.data_dir
    async with running_ledger(
        settings, identity, lambda: EmbeddedBus(embedded_path(data_dir))
    ) as ledger:
        yield ledger


@asynccontextmanager
async def pinned_scene(
    database_url: str, data_dir: Path, identity_server: Identity, tmp_path: Path
) -> AsyncIterator[Scene]:
    keys = {name: Ed25519PrivateKey.generate() for name in ("identity", "anonymity", "audit")}
    pins = json.dumps({name: [pem(key)] for name, key in keys.items()})
    producers_file = tmp_path / "producers.json"
    producers_file.write_text(pins)
    own = keys.pop("audit")  # the ledger's own chain: every auditor query is an event
    settings = audit_settings(
        database_url,
        data_dir,
        identity_server,
        producers=pins,
        audit_signing_key=private_pem(SigningKey.of(own)).decode(),
    )
    async with restarted_ledger(settings, identity_server) as ledger:
        made = {name: Producer(name, key, publish_key(data_dir, key)) for name, key in keys.items()}
        await ledger.ingest(*(made["identity"].next() for _ in range(5)))
        await ledger.ingest(*(made["anonymity"].next() for _ in range(3)))
        await ledger.instance.tlog.checkpoint_all()  # as the cadence would: events are logged
        yield Scene(
            ledger,
            settings,
            made["identity"],
            made["anonymity"],
            producers_file,
            tmp_path / "auditor-state.json",
        )


def altered(event: pb.AuditEvent, **changes: Any) -> pb.AuditEvent:
    copy = pb.AuditEvent()
    copy.CopyFrom(event)
    for name, value in changes.items():
        setattr(copy, name, value)
    return copy
