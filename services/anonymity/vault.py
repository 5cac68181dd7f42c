"""The alias mapping's cryptography applied to rows: wrap keys, seal owners and names.

Which key protects what, and what each ciphertext is bound to (AEAD associated data):
- user key row: data key wrapped under the active KEK, bound to the owner's blind index;
- alias row: owner's blind index sealed under the active KEK, bound to the alias id (so
  a reader of the database cannot group aliases by owner), and the user id under the
  owner's data key, bound to the alias id (so erasing the data key shreds it);
- alias display name (IDENTIFIED only): the name frozen with the alias, under the owner's
  data key, bound to the alias id, so erasure shreds it;
- tombstone (erasure): random owner fields of real lengths, the seal opening to a random
  index nobody has, so an erased alias's row looks like any other;
- person record: verification and specialty sealed under the active KEK, bound to the
  blind index; the full name under the owner's data key, so erasure shreds it too.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from dataclasses import replace
from datetime import datetime

from plumbing.auth import VerificationStatus
from services.anonymity.domain.aliases import AliasState, StoredAlias, UserKey, Visibility
from services.anonymity.domain.crypto import (
    CryptoError,
    MasterKeys,
    Sealed,
    decrypt,
    encrypt,
    length_prefixed,
    new_key,
    subkey,
)
from services.anonymity.domain.inbox import PersonIndex
from services.anonymity.domain.people import PersonRecord, StoredPerson


class Vault:
    """Applies the master keys and a person's data key to the stored shapes."""

    def __init__(self, keys: MasterKeys) -> None:
        self._keys = keys
        self._indexer = keys.indexer()

    @property
    def active_kid(self) -> str:
        return self._keys.active_kid

    def followers(self) -> PersonIndex:
        """The service's own keyed lists of who follows a thread (sealed blind indexes)."""
        return PersonIndex(subkey(self._keys.index_key, "consilium/anonymity/followers/v1"))

    def owner_index(self, user_id: str) -> str:
        return self._indexer.blind_index(user_id)

    def slot(self, user_id: str, visibility: Visibility, scope_id: str | None) -> str:
        return self._indexer.slot(user_id, visibility.value, scope_id or "")

    def handle_number(self, alias_id: str) -> int:
        return self._indexer.handle_number(alias_id)

    def new_user_key(self, owner_index: str) -> tuple[UserKey, bytes]:
        data_key = new_key()
        sealed = self._keys.seal(data_key, aad=length_prefixed("dek", owner_index))
        return UserKey(owner_index, sealed.kid, sealed.blob, suspended=False), data_key

    def data_key(self, key: UserKey) -> bytes:
        return self._keys.open(
            Sealed(key.kid, key.wrapped_key), aad=length_prefixed("dek", key.owner_index)
        )

    def new_alias(
        self,
        *,
        alias_id: str,
        visibility: Visibility,
        scope_id: str | None,
        created_at: datetime,
        slot: str,
        user_id: str,
        owner_index: str,
        data_key: bytes,
    ) -> StoredAlias:
        sealed = self._keys.seal(owner_index.encode(), aad=length_prefixed("owner", alias_id))
        return StoredAlias(
            alias_id=alias_id,
            visibility=visibility,
            scope_id=scope_id,
            state=AliasState.ACTIVE,
            created_at=created_at,
            slot=slot,
            owner_seal_kid=sealed.kid,
            owner_sealed=sealed.blob,
            owner_ciphertext=encrypt(
                data_key, user_id.encode(), aad=length_prefixed("user", alias_id)
            ),
        )

    def owner_index_of(self, alias: StoredAlias) -> str:
        """The blind index of an alias's owner; CryptoError if the alias is orphaned."""
        if alias.owner_sealed is None or alias.owner_seal_kid is None:
            raise CryptoError("the alias has no owner any more")
        opened = self._keys.open(
            Sealed(alias.owner_seal_kid, alias.owner_sealed),
            aad=length_prefixed("owner", alias.alias_id),
        )
        return opened.decode()

    def user_id_of(self, alias: StoredAlias, data_key: bytes) -> str:
        if alias.owner_ciphertext is None:
            raise CryptoError("the alias has no owner any more")
        blob = decrypt(
            data_key, alias.owner_ciphertext, aad=length_prefixed("user", alias.alias_id)
        )
        return blob.decode()

    def owns(self, alias: StoredAlias, owner_index: str) -> bool:
        """Whether `alias` belongs to the person with `owner_index` (False if orphaned)."""
        try:
            return hmac.compare_digest(self.owner_index_of(alias), owner_index)
        except CryptoError:
            return False

    def tombstone(self, alias: StoredAlias) -> StoredAlias:
        """`alias` with owner fields that belong to nobody but look like anyone's (erasure).

        The seal opens to a random index no person has; slot and ciphertexts are random
        bytes of the lengths real ones have, so a reader without keys sees no difference.
        """
        sealed = self._keys.seal(
            secrets.token_hex(32).encode(), aad=length_prefixed("owner", alias.alias_id)
        )
        return replace(
            alias,
            slot=secrets.token_hex(32),
            owner_seal_kid=sealed.kid,
            owner_sealed=sealed.blob,
            owner_ciphertext=_random_like(alias.owner_ciphertext),
            name_ciphertext=_random_like(alias.name_ciphertext),
        )

    def reseal(self, alias: StoredAlias, owner_index: str, data_key: bytes) -> StoredAlias:
        """`alias` with the same owner fields under fresh nonces (a decoy of an erasure)."""
        sealed = self._keys.seal(owner_index.encode(), aad=length_prefixed("owner", alias.alias_id))
        user_id = self.user_id_of(alias, data_key)
        name = self.open_alias_name(alias, data_key)
        return replace(
            alias,
            owner_seal_kid=sealed.kid,
            owner_sealed=sealed.blob,
            owner_ciphertext=encrypt(
                data_key, user_id.encode(), aad=length_prefixed("user", alias.alias_id)
            ),
            name_ciphertext=(
                None if name is None else self.seal_alias_name(data_key, alias.alias_id, name)
            ),
        )

    def seal_alias_name(self, data_key: bytes, alias_id: str, name: str) -> bytes:
        return encrypt(data_key, name.encode(), aad=length_prefixed("alias-name", alias_id))

    def open_alias_name(self, alias: StoredAlias, data_key: bytes) -> str | None:
        """The display name frozen with `alias`, if it has one; CryptoError if it won't open."""
        if alias.name_ciphertext is None:
            return None
        aad = length_prefixed("alias-name", alias.alias_id)
        return decrypt(data_key, alias.name_ciphertext, aad=aad).decode()

    def seal_person(self, owner_index: str, data_key: bytes, record: PersonRecord) -> StoredPerson:
        facts = json.dumps({"v": record.verification.value, "s": record.specialty_code})
        sealed = self._keys.seal(facts.encode(), aad=length_prefixed("person", owner_index))
        name = None
        if record.full_name is not None:
            name = encrypt(
                data_key, record.full_name.encode(), aad=length_prefixed("name", owner_index)
            )
        return StoredPerson(owner_index, sealed.kid, sealed.blob, name)

    def open_person(self, stored: StoredPerson, data_key: bytes | None) -> PersonRecord:
        """The record; without `data_key` (counting only) the name stays unread (None)."""
        facts = json.loads(
            self._keys.open(
                Sealed(stored.kid, stored.sealed),
                aad=length_prefixed("person", stored.owner_index),
            )
        )
        name = None
        if data_key is not None and stored.name_ciphertext is not None:
            aad = length_prefixed("name", stored.owner_index)
            name = decrypt(data_key, stored.name_ciphertext, aad=aad).decode()
        return PersonRecord(VerificationStatus(facts["v"]), str(facts["s"]), name)


def _random_like(blob: bytes | None) -> bytes | None:
    return None if blob is None else os.urandom(len(blob))
