"""The audit chain detects a modified, deleted, reordered or forged event, and reports gaps."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consilium.audit.v1 import audit_pb2
from plumbing.auditchain import GENESIS, link, verify_chain

KEY = Ed25519PrivateKey.generate()
KEYS = {"k1": KEY.public_key()}


def chain(length: int = 5) -> list[audit_pb2.AuditEvent]:
    events, previous = [], GENESIS
    for number in range(1, length + 1):
        event = audit_pb2.AuditEvent(
            event_id=f"e{number}",
            producer="anonymity",
            actor_id="usr_actor",
            purpose=f"purpose {number}",
        )
        previous = link(event, sequence=number, prev_hash=previous, key=KEY, key_id="k1")
        events.append(event)
    return events


def kinds(events: list[audit_pb2.AuditEvent]) -> list[str]:
    return [p.kind for p in verify_chain(events, KEYS).problems]


def test_an_intact_chain_verifies() -> None:
    verdict = verify_chain(chain(), KEYS)
    assert verdict.ok and verdict.event_count == 5 and verdict.last_sequence == 5


def test_a_modified_event_is_found() -> None:
    events = chain()
    events[2].purpose = "something else"
    assert kinds(events) == ["HASH_MISMATCH"]


def test_a_deleted_event_leaves_a_gap() -> None:
    events = chain()
    del events[2]
    verdict = verify_chain(events, KEYS)
    assert verdict.gaps == [(3, 3)] and not verdict.ok


def test_reordered_events_break_the_chain() -> None:
    events = chain()
    events[1].sequence, events[2].sequence = events[2].sequence, events[1].sequence
    assert "HASH_MISMATCH" in kinds(events)


def test_a_forged_event_is_found() -> None:
    events = chain()
    forger = Ed25519PrivateKey.generate()
    events[3].purpose = "forged"
    link(events[3], sequence=4, prev_hash=bytes(events[2].hash), key=forger, key_id="k1")
    assert "BAD_SIGNATURE" in kinds(events)
    link(events[3], sequence=4, prev_hash=bytes(events[2].hash), key=forger, key_id="k9")
    assert "UNKNOWN_KEY" in kinds(events)
    assert "BROKEN_LINK" in kinds(events), "event 5 no longer links to the rewritten event 4"


def test_duplicates_are_reported() -> None:
    events = chain()
    twin = audit_pb2.AuditEvent()
    twin.CopyFrom(events[1])
    twin.event_id = "e2-twin"
    assert "DUPLICATE_SEQUENCE" in kinds([*events, twin])
