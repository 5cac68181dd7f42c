"""What happens to a person's record and aliases: identity's events, erasure, alias lookup.

Person-level changes never touch or announce aliases (P2): a suspension or reinstatement
only sets the person's write ban (`user_keys.suspended`, which GetOrCreateAlias checks),
and erasure shreds the mapping and the IDENTIFIED alias's display name without an alias
event. Content hides an alias's posts only when a moderator acts on that alias (see
services.anonymity.moderation), one alias at a time; erasure is
services.anonymity.erasure. Every function works inside the caller's transaction (one
`AliasRepository`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from plumbing.erasurelog import ErasureLog
from services.anonymity.domain.aliases import UserKey
from services.anonymity.domain.events import (
    PhysicianChange,
    PhysicianErased,
    PhysicianReinstated,
    PhysicianSuspended,
)
from services.anonymity.domain.people import apply_change, count_deltas
from services.anonymity.erasure import erase_person
from services.anonymity.ports import AliasRepository
from services.anonymity.vault import Vault

log = logging.getLogger("consilium.anonymity")


async def ensure_key(
    repo: AliasRepository, vault: Vault, owner_index: str, *, lock: bool = True
) -> UserKey:
    """The person's data key, created if they have none yet (locked on PostgreSQL if `lock`).

    Never call this in a transaction that writes an alias row: the lock and the insert
    stamp the key row with that transaction's id, which would tie the two together.
    """
    key = await repo.get_user_key(owner_index, for_update=lock)
    if key is None:
        key, _ = vault.new_user_key(owner_index)
        key = await repo.add_user_key(key)
    return key


class PhysicianFeed:
    """Applies identity's physician events to anonymity's own store."""

    def __init__(
        self, vault: Vault, erasures: ErasureLog, *, clock: Callable[[], datetime]
    ) -> None:
        self._vault = vault
        self._erasures = erasures
        self._clock = clock

    async def apply(self, repo: AliasRepository, change: PhysicianChange) -> None:
        vault = self._vault
        owner_index = vault.owner_index(change.user_id)
        if isinstance(change, PhysicianErased):
            orphaned = await erase_person(repo, vault, self._erasures, owner_index)
            log.info("identity erased a person: %d aliases orphaned", len(orphaned))
            return
        # The key is made here, from the person's first event, so alias creation later
        # finds it and never writes an owner-keyed row in the alias's transaction.
        key = await ensure_key(repo, vault, owner_index)
        data_key = vault.data_key(key)
        stored = (await repo.get_people([owner_index])).get(owner_index)
        before = vault.open_person(stored, data_key) if stored is not None else None
        after = apply_change(before, change)
        assert after is not None  # only erasure removes the record
        await repo.put_person(vault.seal_person(owner_index, data_key, after), self._clock())
        await repo.adjust_verified_counts(count_deltas(before, after))
        if isinstance(change, PhysicianSuspended | PhysicianReinstated):
            # The person may not write under any alias until reinstated; their aliases and
            # what they wrote stay as they are, so nothing shows which aliases are theirs.
            await repo.set_suspended(owner_index, isinstance(change, PhysicianSuspended))
            log.info("identity changed a person's write ban; no alias announced")
