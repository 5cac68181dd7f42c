"""Reading identity's audit events in tests: the outbox's events, their chain, tags and callers."""

from __future__ import annotations

import itertools
import secrets
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from identity_harness import IdentityClient
from sqlalchemy import text

from consilium.audit.v1 import audit_pb2 as apb
from consilium.events.v1 import audit_events_pb2 as auev
from plumbing.auditchain import GENESIS, verify_chain
from plumbing.auth.service import ServiceCredentials
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS


async def audit_events(identity: IdentityClient) -> list[apb.AuditEvent]:
    """Identity's audit events in its outbox, in the order they were queued."""
    async with identity.instance.engine.connect() as conn:
        result = await conn.execute(
            text("SELECT data, event_key FROM outbox WHERE topic = :t ORDER BY position"),
            {"t": AUDIT_IDENTITY_ACCESS},
        )
        rows = list(result)
    assert all(row.event_key == "identity" for row in rows)
    return [auev.IdentityAccessRecorded.FromString(bytes(row.data)).event for row in rows]


def trusted_keys(data_dir: Path) -> dict[str, Ed25519PublicKey]:
    """What the dev ledger would load: every public key PEM published under the data dir."""
    keys: dict[str, Ed25519PublicKey] = {}
    for path in (data_dir / "audit" / "trusted-keys").glob("*.pem"):
        public = serialization.load_pem_public_key(path.read_bytes())
        assert isinstance(public, Ed25519PublicKey)
        keys[path.stem] = public
    return keys


def assert_chain_verifies(identity: IdentityClient, events: list[apb.AuditEvent]) -> None:
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert bytes(events[0].prev_hash) == GENESIS
    for previous, event in itertools.pairwise(events):
        assert bytes(event.prev_hash) == bytes(previous.hash)
    verdict = verify_chain(events, trusted_keys(identity.instance.settings.data_dir))
    assert verdict.ok, verdict.problems
    assert verdict.event_count == len(events)


def tag(identity: IdentityClient, user_id: str) -> str:
    """How identity's audit events name `user_id`: its blind tag, never the id itself."""
    return identity.instance.store.audit_subjects.tag(user_id)


def traceparent() -> tuple[str, tuple[str, str]]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, ("traceparent", f"00-{trace_id}-{span_id}-01")


def credentials_of(identity: IdentityClient, service: str = "anonymity") -> ServiceCredentials:
    return ServiceCredentials.load(service, identity.instance.settings.data_dir, environ={})


async def rpc_error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value
