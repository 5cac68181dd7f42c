"""Person records folded from identity's events, k-anonymity count deltas, sealed storage."""

from __future__ import annotations

from dataclasses import replace

import pytest

from plumbing.auth import VerificationStatus as V
from services.anonymity.domain.crypto import CryptoError, MasterKeys, new_key
from services.anonymity.domain.events import (
    PhysicianErased,
    PhysicianRegistered,
    PhysicianReinstated,
    PhysicianSpecialtyChanged,
    PhysicianSuspended,
    PhysicianVerified,
)
from services.anonymity.domain.people import PersonRecord, apply_change, count_deltas
from services.anonymity.vault import Vault

USER = "usr_abcdefghijklmnopqrstuvwxyz"
CARDIO, DERM = "207RC0000X", "207N00000X"


def fold(*changes: object) -> PersonRecord | None:
    record: PersonRecord | None = None
    for change in changes:
        record = apply_change(record, change)  # type: ignore[arg-type]
    return record


def test_a_registered_then_verified_physician_counts_in_their_specialty() -> None:
    registered = fold(PhysicianRegistered(USER, "Dr A", CARDIO))
    assert registered == PersonRecord(V.PENDING, CARDIO, "Dr A")
    assert registered.counted_in is None
    verified = apply_change(registered, PhysicianVerified(USER, CARDIO))
    assert verified == PersonRecord(V.VERIFIED, CARDIO, "Dr A")
    assert count_deltas(registered, verified) == {CARDIO: 1}


def test_a_specialty_change_moves_the_count() -> None:
    before = PersonRecord(V.VERIFIED, CARDIO, "Dr A")
    after = apply_change(before, PhysicianSpecialtyChanged(USER, DERM))
    assert count_deltas(before, after) == {CARDIO: -1, DERM: 1}
    pending = replace(before, verification=V.PENDING)
    assert count_deltas(pending, apply_change(pending, PhysicianSpecialtyChanged(USER, DERM))) == {}


def test_suspension_uncounts_and_reinstatement_restores_the_given_status() -> None:
    verified = PersonRecord(V.VERIFIED, CARDIO, "Dr A")
    suspended = apply_change(verified, PhysicianSuspended(USER))
    assert suspended is not None and suspended.verification is V.SUSPENDED
    assert count_deltas(verified, suspended) == {CARDIO: -1}
    back = apply_change(suspended, PhysicianReinstated(USER, V.VERIFIED))
    assert back == verified and count_deltas(suspended, back) == {CARDIO: 1}
    # A status that a reinstatement cannot restore is read as PENDING, never VERIFIED.
    odd = apply_change(suspended, PhysicianReinstated(USER, V.SUSPENDED))
    assert odd is not None and odd.verification is V.PENDING


def test_erasure_removes_the_record_and_its_count() -> None:
    verified = PersonRecord(V.VERIFIED, CARDIO, "Dr A")
    assert apply_change(verified, PhysicianErased(USER)) is None
    assert count_deltas(verified, None) == {CARDIO: -1}


def test_a_first_event_other_than_registration_leaves_the_name_unknown() -> None:
    record = fold(PhysicianVerified(USER, CARDIO))
    assert record == PersonRecord(V.VERIFIED, CARDIO, None)


def test_a_repeated_change_moves_no_count() -> None:
    verified = PersonRecord(V.VERIFIED, CARDIO, "Dr A")
    assert count_deltas(verified, apply_change(verified, PhysicianVerified(USER, CARDIO))) == {}


def test_person_records_are_sealed_and_the_name_needs_the_data_key() -> None:
    vault = Vault(MasterKeys(keys={"k1": new_key()}, active_kid="k1", index_key=new_key()))
    owner = vault.owner_index(USER)
    data_key = new_key()
    record = PersonRecord(V.VERIFIED, CARDIO, "Dr Canary Sealed")
    stored = vault.seal_person(owner, data_key, record)
    assert b"Canary" not in stored.sealed + (stored.name_ciphertext or b"")
    assert CARDIO.encode() not in stored.sealed
    assert vault.open_person(stored, data_key) == record
    assert vault.open_person(stored, None) == replace(record, full_name=None)
    with pytest.raises(CryptoError):
        vault.open_person(stored, new_key())  # the shredded key: the name is gone
    with pytest.raises(CryptoError):
        vault.open_person(replace(stored, owner_index=vault.owner_index("usr_other")), data_key)
