"""Envelope encryption, blind indexes and handle numbers of the alias mapping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.anonymity.domain.aliases import Visibility, is_alias_id, new_alias_id, new_scope_id
from services.anonymity.domain.crypto import (
    CryptoError,
    MasterKeys,
    Sealed,
    decrypt,
    encrypt,
    length_prefixed,
    new_key,
)
from services.anonymity.vault import Vault

USER = "usr_abcdefghijklmnopqrstuvwxyz"


def ring(active: str = "k1", **keys: bytes) -> MasterKeys:
    return MasterKeys(keys=keys or {"k1": b"\x01" * 32}, active_kid=active, index_key=b"\x09" * 32)


def test_length_prefixing_is_unambiguous() -> None:
    assert length_prefixed("ab", "c") != length_prefixed("a", "bc")
    assert length_prefixed("abc") != length_prefixed("ab", "c")


def test_aead_binds_ciphertext_to_its_place() -> None:
    key = new_key()
    blob = encrypt(key, b"secret", aad=b"row-1")
    assert decrypt(key, blob, aad=b"row-1") == b"secret"
    with pytest.raises(CryptoError):
        decrypt(key, blob, aad=b"row-2")
    with pytest.raises(CryptoError):
        decrypt(new_key(), blob, aad=b"row-1")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(CryptoError):
        decrypt(key, tampered, aad=b"row-1")
    assert encrypt(key, b"secret", aad=b"row-1") != blob  # fresh nonce every time


def test_blind_index_is_deterministic_and_keyed() -> None:
    one = ring().indexer()
    other = MasterKeys(keys={"k1": b"\x01" * 32}, active_kid="k1", index_key=b"\x08" * 32)
    assert one.blind_index(USER) == one.blind_index(USER)
    assert one.blind_index(USER) != other.indexer().blind_index(USER)
    assert USER not in one.blind_index(USER)


def test_slots_differ_per_visibility_and_scope() -> None:
    vault = Vault(ring())
    scope_a, scope_b = new_scope_id(), new_scope_id()
    slots = {
        vault.slot(USER, Visibility.ANONYMOUS, scope_a),
        vault.slot(USER, Visibility.ANONYMOUS, scope_b),
        vault.slot(USER, Visibility.PSEUDONYMOUS, None),
        vault.slot(USER, Visibility.IDENTIFIED, None),
    }
    assert len(slots) == 4
    assert vault.slot(USER, Visibility.ANONYMOUS, scope_a) == vault.slot(
        USER, Visibility.ANONYMOUS, scope_a
    )


def test_rotation_keeps_old_wraps_readable_and_wraps_new_with_the_active_key() -> None:
    before = Vault(ring("k1", k1=b"\x01" * 32))
    key, data_key = before.new_user_key(before.owner_index(USER))
    assert key.kid == "k1"
    after = Vault(ring("k2", k1=b"\x01" * 32, k2=b"\x02" * 32))
    assert after.data_key(key) == data_key
    assert after.new_user_key(after.owner_index(USER))[0].kid == "k2"
    retired = Vault(ring("k2", k2=b"\x02" * 32))
    with pytest.raises(CryptoError):
        retired.data_key(key)


def test_unknown_kid_does_not_open() -> None:
    with pytest.raises(CryptoError):
        ring().open(Sealed("nope", b"\x00" * 40), aad=b"")


def test_an_alias_row_opens_only_with_its_owners_data_key() -> None:
    vault = Vault(ring())
    owner_index = vault.owner_index(USER)
    _, data_key = vault.new_user_key(owner_index)
    alias_id = new_alias_id()
    alias = vault.new_alias(
        alias_id=alias_id,
        visibility=Visibility.PSEUDONYMOUS,
        scope_id=None,
        created_at=datetime.now(UTC),
        slot=vault.slot(USER, Visibility.PSEUDONYMOUS, None),
        user_id=USER,
        owner_index=owner_index,
        data_key=data_key,
    )
    assert vault.owner_index_of(alias) == owner_index
    assert vault.user_id_of(alias, data_key) == USER
    with pytest.raises(CryptoError):
        vault.user_id_of(alias, new_key())
    assert USER.encode() not in (alias.owner_ciphertext or b"") + (alias.owner_sealed or b"")


def test_ids_are_random_prefixed_and_128_bit() -> None:
    ids = {new_alias_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(is_alias_id(i) and len(i) == 30 for i in ids)
    assert not is_alias_id(new_scope_id())


def test_handle_numbers_are_stable_four_digits() -> None:
    indexer = ring().indexer()
    alias = new_alias_id()
    number = indexer.handle_number(alias)
    assert number == indexer.handle_number(alias)
    assert 1000 <= number <= 9999


def test_keys_must_be_256_bit_and_active_must_exist() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        MasterKeys(keys={"k1": b"short"}, active_kid="k1", index_key=b"\x09" * 32)
    with pytest.raises(ValueError, match="active"):
        MasterKeys(keys={"k1": b"\x01" * 32}, active_kid="k2", index_key=b"\x09" * 32)
