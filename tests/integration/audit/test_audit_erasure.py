"""After erasure the audit trail no longer names the person behind a revealed alias (P6).

A moderator reveals an ANONYMOUS alias and reads the profile under the reveal grant; the
person is then erased. Anonymity's REVEAL_ALIAS record names the alias; identity's
READ_PROFILE record names the grant's record and shares the request's trace. Joined, they
must not lead to the person: no user id, name, email or NPI in clear in any record that
can be tied to the alias, in the ledger's database, on the audit topic or in identity's
database; and every chain still verifies.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from support.system import PASSWORD, System, next_npi, run_system

from consilium.audit.v1 import audit_pb2 as apb
from consilium.events.v1 import audit_events_pb2 as auev
from plumbing.auth import Role
from plumbing.events.factory import embedded_path
from plumbing.events.kafka import KafkaBus
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS

AUDIT_EVENTS = """query($f: AuditFilter) { auditEvents(filter: $f, first: 200) {
  nodes { id producer subjectId purpose traceId action } } }"""
VERIFY = "query { verifyAuditChain { producer ok eventCount problems { kind detail } } }"
CREATE = "mutation($input: CreatePostInput!) { createPost(input: $input) { author { aliasId } } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
REVEAL = "mutation($a: ID!, $p: String!) { revealAuthor(aliasId: $a, purpose: $p) { id } }"
VERIFY_PHYSICIAN = "mutation($u: ID!) { verifyPhysician(userId: $u, approve: true) { id } }"
ERASE = "mutation($u: ID!) { eraseAccount(userId: $u) }"


RECORDED = auev.IdentityAccessRecorded.DESCRIPTOR.full_name


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
async def system(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[System]:
    bootstrap = request.getfixturevalue("kafka_bootstrap") if request.param == "kafka" else None
    async with run_system(tmp_path / "data", events=True, kafka_bootstrap=bootstrap) as running:
        yield running


async def kafka_topic_events(bootstrap: str) -> list[apb.AuditEvent]:
    """Everything on the real broker's audit topic, read from the beginning to its end."""
    bus = KafkaBus(bootstrap, client_id=f"scan-{uuid.uuid4().hex[:8]}")
    await bus.start()
    subscription = await bus.subscribe(
        group=f"scan-{uuid.uuid4().hex[:8]}", topics=[AUDIT_IDENTITY_ACCESS]
    )
    events: list[apb.AuditEvent] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            batch = await subscription.fetch(max_records=500, wait=2)
            if not batch and events:
                break
            events.extend(
                r.event.decode(auev.IdentityAccessRecorded).event
                for r in batch
                if r.event is not None and r.event.type == RECORDED  # heads share the topic
            )
    finally:
        await subscription.close()
        await bus.close()
    return events


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite+aiosqlite:///"))


def table_rows(path: Path) -> list[bytes]:
    """Every row of every table of a SQLite database, each as the bytes of its values."""
    rows: list[bytes] = []
    with closing(sqlite3.connect(path)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                rows.append(b"\x00".join(_bytes(value) for value in row))
    return rows


def _bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def ledger_events(path: Path) -> list[apb.AuditEvent]:
    with closing(sqlite3.connect(path)) as conn:
        return [
            apb.AuditEvent.FromString(r[0]) for r in conn.execute("SELECT data FROM audit_events")
        ]


def topic_events(bus: Path) -> list[apb.AuditEvent]:
    with closing(sqlite3.connect(bus)) as conn:
        values = conn.execute(
            "SELECT value, headers FROM records WHERE topic = ?", (AUDIT_IDENTITY_ACCESS,)
        ).fetchall()
    # Producers' signed heads share the topic: keep the access records.
    return [
        auev.IdentityAccessRecorded.FromString(value).event
        for value, headers in values
        if ["ce_type", base64.b64encode(RECORDED.encode()).decode()] in json.loads(headers)
    ]


def linked(events: Iterable[apb.AuditEvent], alias_id: str) -> list[apb.AuditEvent]:
    """The events an auditor can tie to the alias: naming it, or joined to one that does by
    trace id or by the record id in a purpose."""
    events = list(events)
    seeds = [e for e in events if alias_id in e.SerializeToString().decode(errors="replace")]
    traces = {e.trace_id for e in seeds if e.trace_id}
    records = {e.event_id for e in seeds}
    return [
        e
        for e in events
        if e in seeds or e.trace_id in traces or any(r in e.purpose for r in records)
    ]


async def wait_until(check: Any, what: str) -> Any:
    deadline = time.monotonic() + 30
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


async def test_an_erased_persons_reveal_no_longer_names_them(system: System) -> None:
    canary = uuid.uuid4().hex[:10]
    email, name = f"reveal.{canary}@example.org", f"Dr. Revealed Canary {canary}"
    npi = next_npi()
    user_id, _ = await system.register(email=email, fullName=name, npi=npi)
    _, admin = await system.account(Role.ADMIN)
    _, moderator = await system.account(Role.MODERATOR)
    _, auditor = await system.account(Role.AUDITOR)
    await system.graphql(VERIFY_PHYSICIAN, {"u": user_id}, token=admin)
    token = (await system.graphql(LOGIN, {"e": email, "p": PASSWORD}))["data"]["login"]["token"]
    post = {
        "kind": "DISCUSSION",
        "community": "lounge-stories",
        "title": "Night shift",
        "body": "Notes.",
        "visibility": "ANONYMOUS",
    }
    created = await system.graphql(CREATE, {"input": post}, token=token)
    alias_id = created["data"]["createPost"]["author"]["aliasId"]
    await system.graphql(REVEAL, {"a": alias_id, "p": "credible threat report"}, token=moderator)

    async def reveal_and_read() -> list[dict[str, Any]]:
        body = await system.graphql(
            AUDIT_EVENTS, {"f": {"actions": ["READ_PROFILE"]}}, token=auditor
        )
        reads = [
            n for n in body["data"]["auditEvents"]["nodes"] if n["purpose"].startswith("reveal ")
        ]
        return reads

    (read,) = await wait_until(reveal_and_read, "the profile read never reached the ledger")
    # While the person exists an auditor finds identity's record by their user id.
    by_subject = await system.graphql(AUDIT_EVENTS, {"f": {"subjectId": user_id}}, token=auditor)
    assert read["id"] in [n["id"] for n in by_subject["data"]["auditEvents"]["nodes"]]

    await system.graphql(ERASE, {"u": user_id}, token=admin)

    ledger_db = sqlite_path(system.database_urls["audit"])
    identity_db = sqlite_path(system.database_urls["identity"])

    async def all_ingested() -> bool:
        with closing(sqlite3.connect(identity_db)) as conn:
            queued = conn.execute(
                "SELECT COUNT(*) FROM outbox WHERE topic = ? AND sent_at IS NOT NULL",
                (AUDIT_IDENTITY_ACCESS,),
            ).fetchone()[0]
            pending = conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()[
                0
            ]
        stored = ledger_events(ledger_db)
        # Anonymity's reveal record travels on its own outbox: wait for it too.
        joined = {e.producer for e in linked(stored, alias_id)}
        identity_stored = len([e for e in stored if e.producer == "identity"])
        return pending == 0 and identity_stored == queued and joined == {"anonymity", "identity"}

    await wait_until(all_ingested, "identity's audit events never all reached the ledger")

    secrets = [user_id, name, f"Revealed Canary {canary}", email, npi]
    for source, events in (
        ("ledger", ledger_events(ledger_db)),
        (
            "audit topic",
            await kafka_topic_events(system.kafka_bootstrap)
            if system.kafka_bootstrap
            else topic_events(embedded_path(system.data_dir)),
        ),
    ):
        joined = linked(events, alias_id)
        assert {e.producer for e in joined} == {"anonymity", "identity"}, source
        for event in joined:
            text = event.SerializeToString()
            for secret in secrets:
                assert secret.encode() not in text, (source, event.producer, event.action)
    # Names and emails are nowhere in the ledger's rows, whatever they are tied to.
    for row in table_rows(ledger_db):
        for secret in secrets[1:]:
            assert secret.encode() not in row
    # Identity's rows: whatever names the reveal's record no longer names the person.
    record_ids = {e.event_id for e in linked(ledger_events(ledger_db), alias_id)}
    for row in table_rows(identity_db):
        if any(r.encode() in row for r in record_ids) or alias_id.encode() in row:
            for secret in secrets:
                assert secret.encode() not in row
        for secret in secrets[1:]:
            assert secret.encode() not in row

    reports = (await system.graphql(VERIFY, token=auditor))["data"]["verifyAuditChain"]
    assert {r["producer"] for r in reports} >= {"anonymity", "identity"}
    assert all(r["ok"] for r in reports), reports
