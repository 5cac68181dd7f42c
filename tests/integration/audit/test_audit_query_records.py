"""Every auditor query is an audit event (A1): the ledger records each RPC, granted or refused,
as one signed event of its own chain (producer "audit") before it answers."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import grpc
from audit_harness import Ledger, Metadata, rpc_error
from test_audit_live_staff import auditor_calls, identity_call

from cli.audit import Options, run_verify
from consilium.audit.v1 import audit_pb2 as pb
from consilium.identity.v1 import identity_pb2 as ipb
from plumbing.auditchain import verify_chain
from plumbing.auditlink import load_tag_key, subject_tag
from plumbing.auth import Role

#: The action each call of `auditor_calls` is recorded as, in that order.
ACTIONS = [
    pb.ACTION_QUERY_AUDIT_EVENTS,
    pb.ACTION_VERIFY_AUDIT_CHAINS,
    pb.ACTION_READ_AUDIT_CHECKPOINT,
    pb.ACTION_LIST_CHAIN_EVENTS,
    pb.ACTION_READ_CONSISTENCY_PROOF,
    pb.ACTION_READ_INCLUSION_PROOF,
    pb.ACTION_READ_INCLUSION_PROOF,
]


async def own_events(ledger: Ledger) -> list[pb.AuditEvent]:
    """The audit producer's events as stored (read from the database: no query of its own)."""
    return sorted(await ledger.instance.ledger.chain("audit"), key=lambda e: e.sequence)


def tag(ledger: Ledger, user_id: str) -> str:
    return subject_tag(load_tag_key(ledger.data_dir), user_id)


async def one_new_event(ledger: Ledger, call: object) -> pb.AuditEvent:
    """Runs `call` (an awaitable; its outcome is the caller's business) and returns the one
    event it added to the audit chain."""
    before = len(await own_events(ledger))
    with contextlib.suppress(grpc.aio.AioRpcError):
        await call  # type: ignore[misc]
    after = await own_events(ledger)
    assert len(after) == before + 1, f"{len(after) - before} events for one query"
    return after[-1]


async def test_each_granted_query_is_one_event(ledger: Ledger) -> None:
    producer = ledger.producer()
    await ledger.ingest(producer.next())
    await ledger.instance.tlog.checkpoint_all()
    auditor_id, auditor = await ledger.staff(Role.AUDITOR)
    for call, action in zip(auditor_calls(ledger), ACTIONS, strict=True):
        event = await one_new_event(ledger, call(auditor))
        assert (event.producer, event.action) == ("audit", action)
        assert event.decision == pb.DECISION_GRANTED and not event.denial_reason
        assert event.actor_role == pb.ACTOR_ROLE_AUDITOR
        # The actor is named by blind tag, never by user id in clear.
        assert event.actor_id == tag(ledger, auditor_id)
        assert auditor_id.encode() not in event.SerializeToString()
    events = await own_events(ledger)
    assert [e.sequence for e in events] == list(range(1, len(ACTIONS) + 1))
    keys = await ledger.instance.service._keys.keys({e.key_id for e in events})
    assert verify_chain(events, keys).ok


async def test_a_query_names_the_person_it_searched_by_tag(ledger: Ledger) -> None:
    _, auditor = await ledger.staff(Role.AUDITOR)
    searched = "usr_0123456789abcdef0123456789"
    request = pb.QueryEventsRequest(filter=pb.EventFilter(subject_id=searched, trace_id="ab" * 16))
    event = await one_new_event(ledger, ledger.stub.QueryEvents(request, metadata=auditor))
    assert event.subject_kind == pb.SUBJECT_KIND_USER_TAG
    assert event.subject_id == tag(ledger, searched)
    assert sorted(event.fields) == ["subject_id", "trace_id"]
    assert searched.encode() not in event.SerializeToString()
    alias = pb.QueryEventsRequest(filter=pb.EventFilter(subject_id="als_xyz"))
    event = await one_new_event(ledger, ledger.stub.QueryEvents(alias, metadata=auditor))
    assert (event.subject_kind, event.subject_id) == (pb.SUBJECT_KIND_ALIAS, "als_xyz")
    checkpoint = pb.GetCheckpointRequest(producer="identity")
    event = await one_new_event(ledger, ledger.stub.GetCheckpoint(checkpoint, metadata=auditor))
    assert (event.subject_kind, event.subject_id) == (pb.SUBJECT_KIND_AUDIT_LOG, "identity")


async def refused_events(ledger: Ledger, token: Metadata) -> list[pb.AuditEvent]:
    made = []
    for call, action in zip(auditor_calls(ledger), ACTIONS, strict=True):
        error = await rpc_error(call(token))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        event = (await own_events(ledger))[-1]
        assert (event.action, event.decision) == (action, pb.DECISION_DENIED)
        assert event.denial_reason.startswith("PERMISSION_DENIED: ")
        made.append(event)
    return made


async def test_a_non_auditor_is_refused_and_recorded_once_per_query(ledger: Ledger) -> None:
    moderator_id, moderator = await ledger.staff(Role.MODERATOR)
    before = len(await own_events(ledger))
    made = await refused_events(ledger, moderator)
    assert len(await own_events(ledger)) == before + len(ACTIONS)
    assert {(e.actor_id, e.actor_role) for e in made} == {
        (tag(ledger, moderator_id), pb.ACTOR_ROLE_MODERATOR)
    }


async def test_a_demoted_or_suspended_auditor_is_refused_and_recorded(ledger: Ledger) -> None:
    _, admin = await ledger.staff(Role.ADMIN)
    demoted_id, demoted = await ledger.staff(Role.AUDITOR)
    suspended_id, suspended = await ledger.staff(Role.AUDITOR)
    request = ipb.SetRolesRequest(user_id=demoted_id, roles=[])
    await identity_call(ledger, "SetRoles", request, admin)
    suspension = ipb.SuspendPhysicianRequest(user_id=suspended_id, reason="left the company")
    await identity_call(ledger, "SuspendPhysician", suspension, admin)
    before = len(await own_events(ledger))
    # The tokens still say AUDITOR: recorded in that role, refused by the live check.
    for user_id, token in ((demoted_id, demoted), (suspended_id, suspended)):
        made = await refused_events(ledger, token)
        assert {(e.actor_id, e.actor_role) for e in made} == {
            (tag(ledger, user_id), pb.ACTOR_ROLE_AUDITOR)
        }
    assert any("suspended" in e.denial_reason for e in made)
    assert len(await own_events(ledger)) == before + 2 * len(ACTIONS)


async def test_an_anonymous_call_is_refused_unrecorded(ledger: Ledger) -> None:
    before = len(await own_events(ledger))
    error = await rpc_error(ledger.stub.QueryEvents(pb.QueryEventsRequest()))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert len(await own_events(ledger)) == before


async def test_no_record_no_answer(ledger: Ledger) -> None:
    producer = ledger.producer()
    await ledger.ingest(producer.next())
    _, auditor = await ledger.staff(Role.AUDITOR)
    reply = await ledger.stub.QueryEvents(pb.QueryEventsRequest(), metadata=auditor)
    assert len(reply.events) == 1
    before = await own_events(ledger)
    # The chain row gone (as an attacker or a broken migration would leave it): nothing
    # can be recorded, so nothing is answered, granted or refused.
    await ledger.execute("DELETE FROM audit_chain")
    for call in auditor_calls(ledger):
        error = await rpc_error(call(auditor))
        assert error.code() == grpc.StatusCode.INTERNAL
        assert not error.details() or "usr_" not in error.details()
    assert await own_events(ledger) == before


async def test_the_audit_chain_enters_the_verified_log(ledger: Ledger) -> None:
    _, auditor = await ledger.staff(Role.AUDITOR)
    for _ in range(3):
        await ledger.stub.QueryEvents(pb.QueryEventsRequest(), metadata=auditor)
    reply = await ledger.stub.GetCheckpoint(
        pb.GetCheckpointRequest(producer="audit"), metadata=auditor
    )
    assert reply.tree_size == 3  # the checkpoint read itself is recorded after its answer
    verdict = await ledger.verify("audit")
    (report,) = verdict.reports
    assert report.ok and report.producer == "audit" and report.log_size >= 4


async def test_the_first_verify_of_a_fresh_ledger_covers_the_audit_chain(
    ledger: Ledger, tmp_path: Path
) -> None:
    _, auditor = await ledger.staff(Role.AUDITOR)
    token = dict(auditor)["authorization"].split()[1]
    address = f"127.0.0.1:{ledger.instance.server.port}"
    options = Options(token, address, data_dir=ledger.data_dir)
    state = tmp_path / "state.json"
    outcome = await run_verify(options, state_file=state)
    assert outcome.findings == []
    # Expected though it had no event when the run began; its checkpoint is kept from now on.
    assert set(json.loads(state.read_text())["checkpoints"]) == {"audit"}
    assert (await run_verify(options, state_file=state)).findings == []
