"""The audit ledger end to end (A1 to A3): a moderator's reveal reaches `auditEvents` for an
auditor, with the moderator as actor, the stated purpose and the trace id the gateway named
in `traceresponse`; the chain it joined verifies; members are refused. Embedded bus and real
Kafka."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from support.system import PASSWORD, System, run_system

from consilium.audit.v1 import audit_pb2, audit_pb2_grpc
from plumbing.auth import Role
from plumbing.grpc.caller import bearer_metadata
from plumbing.tlog.checkpoint import open_checkpoint
from plumbing.tlog.merkle import ProofError, leaf_hash, verify_inclusion
from plumbing.tlog.note import NoteVerifier

AUDIT_EVENTS = """query($f: AuditFilter, $first: Int, $after: String) {
  auditEvents(filter: $f, first: $first, after: $after) {
    nodes { id occurredAt producer sequence actorId actorRole subjectId subjectKind action
            fields purpose decision denialReason traceId spanId }
    pageInfo { hasNextPage endCursor } } }"""
VERIFY = """query($p: String) { verifyAuditChain(producer: $p) {
  producer ok eventCount lastSequence gaps { firstMissing lastMissing }
  problems { sequence kind detail } } }"""
CREATE = (
    """mutation($input: CreatePostInput!) { createPost(input: $input) { id author { aliasId } } }"""
)
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
REVEAL = "mutation($a: ID!, $p: String!) { revealAuthor(aliasId: $a, purpose: $p) { id } }"
PROVEN = """query($f: AuditFilter) { auditEvents(filter: $f) {
  nodes { id producer sequence inclusionProof { leafIndex treeSize hashes checkpoint } } } }"""
CHECKPOINT = """query($p: String!) { auditCheckpoint(producer: $p) {
  origin size rootHash note verifierKey } }"""


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
async def evented(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[System]:
    bootstrap = request.getfixturevalue("kafka_bootstrap") if request.param == "kafka" else None
    async with run_system(tmp_path / "data", events=True, kafka_bootstrap=bootstrap) as system:
        yield system


async def anonymous_post_alias(system: System) -> tuple[str, str]:
    """A verified member's ANONYMOUS post; returns (author user id, alias id)."""
    _, admin = await system.account(Role.ADMIN)
    email = f"{uuid.uuid4().hex[:10]}@example.org"
    user_id, _ = await system.register(email=email)
    await system.graphql(
        "mutation($u: ID!) { verifyPhysician(userId: $u, approve: true) { id } }",
        {"u": user_id},
        token=admin,
    )
    token = (await system.graphql(LOGIN, {"e": email, "p": PASSWORD}))["data"]["login"]["token"]
    post_input = {
        "kind": "DISCUSSION",
        "community": "lounge-stories",
        "title": "Night shift",
        "body": "Notes.",
        "visibility": "ANONYMOUS",
    }
    body = await system.graphql(CREATE, {"input": post_input}, token=token)
    return user_id, body["data"]["createPost"]["author"]["aliasId"]


async def audited(
    system: System, token: str, trace_id: str, count: int = 1
) -> list[dict[str, Any]]:
    """The ledger's events of one trace, once there are `count` (bounded polling: ingestion
    is asynchronous, through the outboxes, the bus and the ledger's consumer)."""
    deadline = time.monotonic() + 30
    while True:
        body = await system.graphql(AUDIT_EVENTS, {"f": {"traceId": trace_id}}, token=token)
        nodes: list[dict[str, Any]] = body["data"]["auditEvents"]["nodes"]
        if len(nodes) >= count:
            return nodes
        assert time.monotonic() < deadline, "the reveal never reached the audit ledger"
        await asyncio.sleep(0.1)


async def test_a_reveal_is_in_the_ledger_for_auditors(evented: System) -> None:
    author_id, alias_id = await anonymous_post_alias(evented)
    moderator_id, moderator = await evented.account(Role.MODERATOR)
    _, auditor = await evented.account(Role.AUDITOR)
    client_trace = uuid.uuid4().hex
    reply = await evented.http.post(
        evented.gateway_url,
        json={"query": REVEAL, "variables": {"a": alias_id, "p": "credible threat report"}},
        headers={
            "authorization": f"Bearer {moderator}",
            "traceparent": f"00-{client_trace}-{uuid.uuid4().hex[:16]}-01",
        },
    )
    assert reply.json().get("errors") is None, reply.text
    # A3: the events carry the trace the gateway started and named in `traceresponse`; the
    # client's traceparent is only a link of that trace.
    trace_id = reply.headers["traceresponse"].split("-")[1]
    assert trace_id != client_trace

    # Two accesses, one trace: anonymity resolved the alias, identity served the profile.
    events = await audited(evented, auditor, trace_id, count=2)
    assert sorted(e["producer"] for e in events) == ["anonymity", "identity"]
    (event,) = [e for e in events if e["producer"] == "anonymity"]
    (read,) = [e for e in events if e["producer"] == "identity"]
    # Identity names the person by a blind tag (P6: the link is shredded at erasure); the
    # auditor still finds the read by the user id.
    assert (read["action"], read["actorId"]) == ("READ_PROFILE", moderator_id)
    assert read["subjectId"].startswith("ptag_") and author_id not in str(read)
    by_subject = await evented.graphql(AUDIT_EVENTS, {"f": {"subjectId": author_id}}, token=auditor)
    assert read["id"] in [n["id"] for n in by_subject["data"]["auditEvents"]["nodes"]]
    assert read["purpose"] == f"reveal {event['id']}"

    assert event["actorId"] == moderator_id
    assert event["actorRole"] == "MODERATOR"
    assert event["action"] == "REVEAL_ALIAS"
    assert event["subjectId"] == alias_id
    assert event["purpose"] == "credible threat report"
    assert event["decision"] == "GRANTED"
    assert event["denialReason"] is None
    assert event["producer"] == "anonymity"
    assert event["sequence"] >= 1
    assert len(event["spanId"]) == 16
    assert author_id not in str(event), "the ledger records the alias, not who is behind it"

    # The same event through the other filters an auditor would use.
    by_actor = await evented.graphql(
        AUDIT_EVENTS,
        {"f": {"actorId": moderator_id, "actions": ["REVEAL_ALIAS"], "decision": "GRANTED"}},
        token=auditor,
    )
    assert [n["id"] for n in by_actor["data"]["auditEvents"]["nodes"]] == [event["id"]]

    # A2: the chain the reveal joined verifies with the key anonymity published.
    reports = (await evented.graphql(VERIFY, {"p": "anonymity"}, token=auditor))["data"]
    (report,) = reports["verifyAuditChain"]
    assert report["ok"], report
    assert report["lastSequence"] >= event["sequence"]


async def test_the_ledger_is_closed_to_everyone_but_auditors(evented: System) -> None:
    _, member = await evented.register()
    _, moderator = await evented.account(Role.MODERATOR)
    for token in (member, moderator):
        for query in (AUDIT_EVENTS, VERIFY):
            body = await evented.graphql(query, token=token, expect_errors=True)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
            field = "auditEvents" if query is AUDIT_EVENTS else "verifyAuditChain"
            assert body["data"] == {field: None}
    anonymous = await evented.graphql(AUDIT_EVENTS, expect_errors=True)
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]


async def test_page_size_is_bounded(evented: System) -> None:
    _, auditor = await evented.account(Role.AUDITOR)
    body = await evented.graphql(AUDIT_EVENTS, {"first": 201}, token=auditor, expect_errors=True)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def stored_event(system: System, token: str, sequence: int) -> audit_pb2.AuditEvent:
    """Anonymity's event at `sequence` exactly as the ledger stores it (the log's leaf)."""
    address = f"127.0.0.1:{system.audit.server.port}"
    async with grpc.aio.insecure_channel(address) as channel:
        stub = audit_pb2_grpc.AuditServiceStub(channel)
        reply = await stub.ListChainEvents(
            audit_pb2.ListChainEventsRequest(producer="anonymity", after_sequence=sequence - 1),
            metadata=bearer_metadata(token),
        )
    return reply.events[0]


async def test_an_auditor_checks_an_event_against_a_signed_checkpoint(evented: System) -> None:
    _, alias_id = await anonymous_post_alias(evented)
    _, moderator = await evented.account(Role.MODERATOR)
    _, auditor = await evented.account(Role.AUDITOR)
    await evented.graphql(REVEAL, {"a": alias_id, "p": "threat of harm reported"}, token=moderator)

    deadline = time.monotonic() + 30
    while True:  # bounded: ingestion, then verification into the log, are asynchronous
        # anonymity's: each of these queries is also an event on the alias, of producer audit
        where = {"subjectId": alias_id, "producer": "anonymity"}
        body = await evented.graphql(PROVEN, {"f": where}, token=auditor)
        nodes = body["data"]["auditEvents"]["nodes"]
        if nodes and nodes[0]["inclusionProof"] is not None:
            break
        assert time.monotonic() < deadline, "the reveal never got an inclusion proof"
        await asyncio.sleep(0.1)
    (event,) = nodes
    proof = event["inclusionProof"]
    assert proof["leafIndex"] == event["sequence"] - 1

    reply = await evented.graphql(CHECKPOINT, {"p": "anonymity"}, token=auditor)
    newest = reply["data"]["auditCheckpoint"]
    assert newest["origin"] == "consilium.audit/anonymity"
    assert newest["size"] >= proof["treeSize"]
    verifier = NoteVerifier.from_vkey(newest["verifierKey"])
    opened, _ = open_checkpoint(newest["note"], origin=newest["origin"], verifier=verifier)
    assert (opened.size, base64.b64encode(opened.root_hash).decode()) == (
        newest["size"],
        newest["rootHash"],
    )

    # The proof leads from the event's stored bytes to the root its own signed checkpoint names.
    signed, _ = open_checkpoint(proof["checkpoint"], origin=newest["origin"], verifier=verifier)
    assert signed.size == proof["treeSize"]
    stored = await stored_event(evented, auditor, event["sequence"])
    assert stored.event_id == event["id"]
    leaf = leaf_hash(stored.SerializeToString(deterministic=True))
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    verify_inclusion(proof["leafIndex"], proof["treeSize"], leaf, hashes, signed.root_hash)
    forged = audit_pb2.AuditEvent()
    forged.CopyFrom(stored)
    forged.purpose = "routine check"
    with pytest.raises(ProofError):
        verify_inclusion(
            proof["leafIndex"],
            proof["treeSize"],
            leaf_hash(forged.SerializeToString(deterministic=True)),
            hashes,
            signed.root_hash,
        )


async def test_checkpoints_are_for_auditors_only(evented: System) -> None:
    _, moderator = await evented.account(Role.MODERATOR)
    body = await evented.graphql(
        CHECKPOINT, {"p": "anonymity"}, token=moderator, expect_errors=True
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    anonymous = await evented.graphql(CHECKPOINT, {"p": "anonymity"}, expect_errors=True)
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]


EDGES = """query($first: Int, $after: String) {
  auditEvents(filter: {actions: [REVEAL_ALIAS]}, first: $first, after: $after) {
  edges { cursor node { id } } nodes { id } pageInfo { hasNextPage endCursor startCursor } } }"""


async def test_audit_events_are_a_relay_connection_with_a_cursor_per_event(
    evented: System,
) -> None:
    _, alias_id = await anonymous_post_alias(evented)
    _, moderator = await evented.account(Role.MODERATOR)
    _, auditor = await evented.account(Role.AUDITOR)
    for purpose in ("first report", "second report", "third report"):
        await evented.graphql(REVEAL, {"a": alias_id, "p": purpose}, token=moderator)
    deadline = time.monotonic() + 30
    while (
        len(
            (page := await evented.graphql(EDGES, {"first": 50}, token=auditor))["data"][
                "auditEvents"
            ]["edges"]
        )
        != 3  # three reveals (identity's reads are other actions, some ingested later)
    ):
        assert time.monotonic() < deadline, "the reveals never reached the ledger"
        await asyncio.sleep(0.1)

    connection = page["data"]["auditEvents"]
    ids = [edge["node"]["id"] for edge in connection["edges"]]
    assert ids == [node["id"] for node in connection["nodes"]]
    assert connection["pageInfo"]["startCursor"] == connection["edges"][0]["cursor"]
    assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
    # Any edge's cursor continues right after that event: no gap, no repeat.
    for index, edge in enumerate(connection["edges"]):
        rest = await evented.graphql(EDGES, {"first": 50, "after": edge["cursor"]}, token=auditor)
        assert [n["id"] for n in rest["data"]["auditEvents"]["nodes"]] == ids[index + 1 :]
