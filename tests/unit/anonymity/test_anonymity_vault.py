"""The vault's erasure helpers: tombstones open to nobody and look like live rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.anonymity.domain.aliases import StoredAlias, Visibility, new_alias_id
from services.anonymity.domain.crypto import MasterKeys, new_key
from services.anonymity.vault import Vault

USER = "usr_abcdefghijklmnopqrstuvwxyz"


def _alias(vault: Vault, visibility: Visibility) -> tuple[StoredAlias, str, bytes]:
    owner_index = vault.owner_index(USER)
    _, data_key = vault.new_user_key(owner_index)
    alias = vault.new_alias(
        alias_id=new_alias_id(),
        visibility=visibility,
        scope_id=None,
        created_at=datetime.now(UTC),
        slot=vault.slot(USER, visibility, None),
        user_id=USER,
        owner_index=owner_index,
        data_key=data_key,
    )
    name = vault.seal_alias_name(data_key, alias.alias_id, "Dr Jane Roe")
    return replace(alias, name_ciphertext=name), owner_index, data_key


def test_a_tombstone_opens_to_nobody_and_keeps_every_length() -> None:
    vault = Vault(MasterKeys(keys={"k": new_key()}, active_kid="k", index_key=new_key()))
    alias, owner_index, _ = _alias(vault, Visibility.IDENTIFIED)
    dead = vault.tombstone(alias)
    assert not vault.owns(dead, owner_index)
    assert vault.owner_index_of(dead) != owner_index  # opens, to a random index
    for field in ("slot", "owner_sealed", "owner_ciphertext", "name_ciphertext"):
        before, after = getattr(alias, field), getattr(dead, field)
        assert before != after and len(before) == len(after), field
    assert dead.persona == alias.persona and dead.state is alias.state


def test_a_reseal_changes_every_byte_and_no_meaning() -> None:
    vault = Vault(MasterKeys(keys={"k": new_key()}, active_kid="k", index_key=new_key()))
    alias, owner_index, data_key = _alias(vault, Visibility.IDENTIFIED)
    again = vault.reseal(alias, owner_index, data_key)
    assert again.owner_sealed != alias.owner_sealed
    assert again.owner_ciphertext != alias.owner_ciphertext
    assert again.name_ciphertext != alias.name_ciphertext
    assert again.slot == alias.slot
    assert vault.owns(again, owner_index)
    assert vault.user_id_of(again, data_key) == USER
    assert vault.open_alias_name(again, data_key) == "Dr Jane Roe"
