"""Persona attributes from anonymity's own store, kept current by identity's events.

Verification, specialty and names come from the person records `PhysicianFeed` writes;
k-anonymity counts come from the counts table the same transactions keep. Identity is
asked (through `fallback`, cached) only about people with no record yet, or whose record
has no name: people who registered before identity published events, or whose
`PhysicianRegistered` has not arrived yet. Such people do not count towards k-anonymity
until their first event arrives, which errs on the side of disclosing less.
Specialty names are a static catalogue: fetched once, and kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace

from plumbing.errors import Unavailable
from services.anonymity.domain.crypto import CryptoError
from services.anonymity.domain.personas import PersonaAttributes
from services.anonymity.ports import AnonymityStore, PersonaAttributesSource
from services.anonymity.vault import Vault

log = logging.getLogger("consilium.anonymity")


class StoredPersonaAttributes:
    """`PersonaAttributesSource` over the person records, with identity as a fallback."""

    def __init__(
        self,
        store: AnonymityStore,
        vault: Vault,
        *,
        fallback: PersonaAttributesSource | None,
    ) -> None:
        self._store = store
        self._vault = vault
        self._fallback = fallback
        self._names: Mapping[str, str] | None = None

    async def attributes(self, user_ids: Iterable[str]) -> dict[str, PersonaAttributes]:
        indexes = {user_id: self._vault.owner_index(user_id) for user_id in set(user_ids)}
        async with self._store.transaction() as repo:
            people = await repo.get_people(indexes.values())
            keys = await repo.get_user_keys(people)
        found: dict[str, PersonaAttributes] = {}
        for user_id, owner_index in indexes.items():
            stored, key = people.get(owner_index), keys.get(owner_index)
            if stored is None or key is None:
                continue
            try:
                record = self._vault.open_person(stored, self._vault.data_key(key))
            except CryptoError:
                log.warning("a person record did not open; described as unknown")
                continue
            found[user_id] = PersonaAttributes(
                user_id=user_id,
                full_name=record.full_name or "",
                verification=record.verification,
                specialty_code=record.specialty_code,
                erased=False,
            )
        nameless = [u for u in indexes if u not in found or found[u].full_name == ""]
        if nameless and self._fallback is not None:
            asked = await self._fallback.attributes(nameless)
            for user_id, theirs in asked.items():
                ours = found.get(user_id)
                # Our record wins on status and specialty: events may be newer than a cache.
                found[user_id] = replace(ours, full_name=theirs.full_name) if ours else theirs
        return found

    async def verified_counts(self) -> Mapping[str, int]:
        async with self._store.transaction() as repo:
            return await repo.verified_counts()

    async def specialty_names(self) -> Mapping[str, str]:
        if self._names is None and self._fallback is not None:
            try:
                self._names = await self._fallback.specialty_names()
            except Unavailable:
                # Disclosure falls back to the code as the name; asked again next time.
                log.warning("specialty names unavailable from identity; showing codes")
                return {}
        return self._names or {}
