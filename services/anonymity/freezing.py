"""Freezing personas: once when an alias is made, and once for aliases made before that.

`PersonaFreezer.new_alias` decides what a new alias discloses (K checked now, never again)
and seals an IDENTIFIED alias's display name under the owner's data key. Aliases made
before personas were frozen get their current face frozen as it is by
`freeze_existing_personas`, which the service runs at startup: idempotent (only rows with
no persona yet), in batches by alias id, so one batch's transaction groups aliases by id
order (random), never by owner. Rows it cannot freeze yet (identity unreachable for a
person with no record) are left for the next start and described as disclosing nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from plumbing.auth import VerificationStatus
from plumbing.errors import Unavailable
from services.anonymity.domain.aliases import FrozenPersona, StoredAlias, Visibility
from services.anonymity.domain.crypto import CryptoError
from services.anonymity.domain.personas import Disclosure, PersonaAttributes, freeze
from services.anonymity.ports import AnonymityStore, PersonaAttributesSource
from services.anonymity.vault import Vault

log = logging.getLogger("consilium.anonymity")

FREEZE_BATCH = 200


class PersonaFreezer:
    """Decides frozen personas from the owner's attributes and the k-anonymity counts."""

    def __init__(
        self, store: AnonymityStore, vault: Vault, attributes: PersonaAttributesSource, *, k: int
    ) -> None:
        self._store = store
        self._vault = vault
        self._attributes = attributes
        self._k = k

    async def disclosure(self) -> Disclosure:
        return Disclosure(
            k=self._k,
            verified_counts=await self._attributes.verified_counts(),
            specialty_names=await self._attributes.specialty_names(),
            handle_number=self._vault.handle_number,
        )

    async def new_alias(self, alias: StoredAlias, user_id: str, data_key: bytes) -> StoredAlias:
        """`alias` with its persona frozen: the owner is VERIFIED (only they get aliases)."""
        owner = (await self._attributes.attributes([user_id])).get(user_id)
        if owner is None:
            owner = PersonaAttributes(user_id, "", VerificationStatus.VERIFIED, "", erased=False)
        # The caller's token said VERIFIED; an event about it may not have arrived yet.
        owner = replace(owner, verification=VerificationStatus.VERIFIED)
        frozen = freeze(alias, owner, await self.disclosure())
        if alias.visibility is Visibility.IDENTIFIED and frozen.display_name is None:
            raise Unavailable("the name for an IDENTIFIED alias is not known yet; try again")
        name = None
        if frozen.display_name is not None:
            name = self._vault.seal_alias_name(data_key, alias.alias_id, frozen.display_name)
        return replace(alias, persona=frozen.persona, name_ciphertext=name)

    async def freeze_existing(self, *, batch: int = FREEZE_BATCH) -> int:
        """Freezes the current face of every alias with none yet; how many were frozen."""
        frozen = 0
        after = ""
        disclosure = await self.disclosure()
        while True:
            async with self._store.transaction() as repo:
                rows = await repo.unfrozen_aliases_after(after, batch)
            if not rows:
                return frozen
            after = rows[-1].alias_id
            try:
                decided = await self._decide(rows, disclosure)
            except Unavailable:
                log.warning("identity unavailable: some personas stay unfrozen until next start")
                continue
            async with self._store.transaction() as repo:
                for alias, (persona, name) in decided.items():
                    await repo.freeze_persona(alias, persona, name)
            frozen += len(decided)

    async def _decide(
        self, rows: list[StoredAlias], disclosure: Disclosure
    ) -> dict[str, tuple[FrozenPersona, bytes | None]]:
        owners: dict[str, tuple[str, bytes]] = {}  # alias id -> (user id, data key)
        indexes: dict[str, str] = {}
        for alias in rows:
            if alias.orphaned:
                continue
            try:
                indexes[alias.alias_id] = self._vault.owner_index_of(alias)
            except CryptoError:
                log.warning("an alias owner seal did not open; frozen as nobody's")
        async with self._store.transaction() as repo:
            keys = await repo.get_user_keys(set(indexes.values()))
        for alias in rows:
            key = keys.get(indexes.get(alias.alias_id, ""))
            if key is None:
                continue
            try:
                data_key = self._vault.data_key(key)
                owners[alias.alias_id] = (self._vault.user_id_of(alias, data_key), data_key)
            except CryptoError:
                log.warning("an alias owner did not decrypt; frozen as nobody's")
        people = {user_id for user_id, _ in owners.values()}
        attributes = await self._attributes.attributes(people) if people else {}
        decided: dict[str, tuple[FrozenPersona, bytes | None]] = {}
        for alias in rows:
            user_id, data_key = owners.get(alias.alias_id, ("", b""))
            result = freeze(alias, attributes.get(user_id), disclosure)
            name = None
            if result.display_name is not None and data_key:
                name = self._vault.seal_alias_name(data_key, alias.alias_id, result.display_name)
            decided[alias.alias_id] = (result.persona, name)
        return decided
