"""A short-lived cache in front of a `PersonaAttributesSource`.

Attributes are cached per user id for `attributes_ttl` seconds, counts and specialty names
for `counts_ttl`; a describe request then costs at most one batched call for the ids it
has not seen lately. Short on purpose: it serves only the fallback for people whose
identity events have not arrived yet (services.anonymity.attributes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

from services.anonymity.domain.personas import PersonaAttributes
from services.anonymity.ports import PersonaAttributesSource

_MAX_ENTRIES = 50_000


class CachedPersonaAttributes:
    """`PersonaAttributesSource` with TTL caching; the clock is injectable for tests."""

    def __init__(
        self,
        source: PersonaAttributesSource,
        *,
        attributes_ttl: float,
        counts_ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._attributes_ttl = attributes_ttl
        self._counts_ttl = counts_ttl
        self._clock = clock
        self._attributes: dict[str, tuple[float, PersonaAttributes | None]] = {}
        self._counts: tuple[float, Mapping[str, int]] | None = None
        self._names: tuple[float, Mapping[str, str]] | None = None

    async def attributes(self, user_ids: Iterable[str]) -> dict[str, PersonaAttributes]:
        now = self._clock()
        wanted = list(dict.fromkeys(user_ids))
        fresh = {u: self._attributes.get(u) for u in wanted}
        missing = [u for u, hit in fresh.items() if hit is None or hit[0] <= now]
        if missing:
            fetched = await self._source.attributes(missing)
            if len(self._attributes) > _MAX_ENTRIES:
                self._attributes.clear()  # crude bound; entries are cheap to refetch
            expires = now + self._attributes_ttl
            for user_id in missing:
                # Unknown ids are cached too, so a stale alias does not cost a call each time.
                self._attributes[user_id] = (expires, fetched.get(user_id))
        result: dict[str, PersonaAttributes] = {}
        for user_id in wanted:
            entry = self._attributes.get(user_id)
            if entry is not None and entry[1] is not None:
                result[user_id] = entry[1]
        return result

    async def verified_counts(self) -> Mapping[str, int]:
        now = self._clock()
        if self._counts is None or self._counts[0] <= now:
            self._counts = (now + self._counts_ttl, await self._source.verified_counts())
        return self._counts[1]

    async def specialty_names(self) -> Mapping[str, str]:
        now = self._clock()
        if self._names is None or self._names[0] <= now:
            self._names = (now + self._counts_ttl, await self._source.specialty_names())
        return self._names[1]
