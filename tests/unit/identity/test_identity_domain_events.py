"""Which change publishes which event, and what its payload may carry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from consilium.events.v1 import identity_events_pb2 as ev
from consilium.identity.v1 import identity_pb2 as pb
from plumbing.events.topics import IDENTITY_PHYSICIANS
from services.identity.adapters.events import SOURCE, event_to_proto, to_envelope
from services.identity.domain.events import (
    PhysicianErased,
    PhysicianEvent,
    PhysicianRegistered,
    PhysicianReinstated,
    PhysicianSuspended,
    PhysicianVerified,
    events_between,
)
from services.identity.domain.physician import Physician, Role, VerificationStatus, new_user_id

P = VerificationStatus


def physician(status: VerificationStatus = P.PENDING) -> Physician:
    return Physician(
        user_id=new_user_id(),
        email="canary.person@example.org",
        full_name="Dr. Canary Person",
        npi="1234567893",
        specialty_code="207RC0000X",
        country="US",
        verification=status,
        roles=frozenset({Role.MEMBER}),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_a_new_account_is_registered() -> None:
    new = physician()
    assert events_between(None, new) == [PhysicianRegistered(new.user_id, "207RC0000X")]


def test_a_seeded_verified_account_is_registered_then_verified() -> None:
    new = physician(P.VERIFIED)
    assert events_between(None, new) == [
        PhysicianRegistered(new.user_id, "207RC0000X"),
        PhysicianVerified(new.user_id, "207RC0000X"),
    ]


@pytest.mark.parametrize("start", [P.PENDING, P.REJECTED])
def test_approval_verifies(start: VerificationStatus) -> None:
    before = physician(start)
    after = before.verify(approve=True)
    assert events_between(before, after) == [PhysicianVerified(before.user_id, "207RC0000X")]


def test_rejection_and_role_changes_say_nothing() -> None:
    before = physician()
    assert events_between(before, before.verify(approve=False)) == []
    assert events_between(before, before.with_roles({Role.MODERATOR})) == []


@pytest.mark.parametrize("start", [P.PENDING, P.VERIFIED])
def test_suspension_and_reinstatement(start: VerificationStatus) -> None:
    before = physician(start)
    suspended = before.suspend()
    assert events_between(before, suspended) == [PhysicianSuspended(before.user_id)]
    assert events_between(suspended, suspended.reinstate()) == [
        PhysicianReinstated(before.user_id, start)
    ]


@pytest.mark.parametrize("start", [P.PENDING, P.VERIFIED, P.REJECTED])
def test_erasure_is_announced_once(start: VerificationStatus) -> None:
    before = physician(start)
    erased = before.erase()
    assert events_between(before, erased) == [PhysicianErased(before.user_id)]
    assert events_between(erased, erased.erase()) == []


def test_erasing_a_suspended_physician_says_erased_not_reinstated() -> None:
    suspended = physician(P.VERIFIED).suspend()
    assert events_between(suspended, suspended.erase()) == [PhysicianErased(suspended.user_id)]


def test_no_change_says_nothing() -> None:
    same = physician(P.VERIFIED)
    assert events_between(same, replace(same)) == []


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            PhysicianRegistered("usr_x", "207RC0000X"),
            ev.PhysicianRegistered(user_id="usr_x", specialty_code="207RC0000X"),
        ),
        (
            PhysicianVerified("usr_x", "207RC0000X"),
            ev.PhysicianVerified(user_id="usr_x", specialty_code="207RC0000X"),
        ),
        (PhysicianSuspended("usr_x"), ev.PhysicianSuspended(user_id="usr_x")),
        (
            PhysicianReinstated("usr_x", P.VERIFIED),
            ev.PhysicianReinstated(user_id="usr_x", verification=pb.VERIFICATION_STATUS_VERIFIED),
        ),
        (PhysicianErased("usr_x"), ev.PhysicianErased(user_id="usr_x")),
    ],
)
def test_payloads(event: PhysicianEvent, expected: object) -> None:
    assert event_to_proto(event) == expected
    envelope = to_envelope(event)
    assert (envelope.topic, envelope.key, envelope.source) == (IDENTITY_PHYSICIANS, "usr_x", SOURCE)
    assert envelope.type == f"consilium.events.v1.{type(event).__name__}"


def test_no_payload_has_room_for_a_name_email_npi_or_country() -> None:
    for message in (
        ev.PhysicianRegistered,
        ev.PhysicianVerified,
        ev.PhysicianSuspended,
        ev.PhysicianReinstated,
        ev.PhysicianErased,
    ):
        names = {f.name for f in message.DESCRIPTOR.fields}
        assert not names & {"full_name", "email", "npi", "country"}, message.DESCRIPTOR.name


def test_the_registration_envelope_carries_no_name_email_or_npi() -> None:
    new = physician()
    (registered,) = events_between(None, new)
    envelope = to_envelope(registered)
    record = envelope.data + b"".join(value for _, value in envelope.headers())
    for secret in (new.full_name, "Canary", new.email, new.npi, "example.org"):
        assert secret.encode() not in record
