"""What happens to a person's aliases and record: identity's events, moderation, erasure.

Every function works inside the caller's transaction (one `AliasRepository`) and queues
the alias events content needs in that same transaction, so the state change and its
events commit together (transactional outbox). Events go out per alias and only for
aliases whose state actually changed, so a repeated suspension says nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from services.anonymity.domain.aliases import AliasState, UserKey
from services.anonymity.domain.events import (
    AliasOrphaned,
    AliasReinstated,
    AliasSuspended,
    PhysicianChange,
    PhysicianErased,
    PhysicianReinstated,
    PhysicianSuspended,
    SuspensionCause,
)
from services.anonymity.domain.people import apply_change, count_deltas
from services.anonymity.ports import AliasRepository
from services.anonymity.vault import Vault

log = logging.getLogger("consilium.anonymity")


async def ensure_key(
    repo: AliasRepository, vault: Vault, owner_index: str, now: datetime
) -> UserKey:
    """The person's data key, created (and locked on PostgreSQL) if they have none yet."""
    key = await repo.get_user_key(owner_index, for_update=True)
    if key is None:
        key, _ = vault.new_user_key(owner_index)
        key = await repo.add_user_key(key, now)
    return key


async def alias_ids_of(repo: AliasRepository, vault: Vault, key: UserKey) -> list[str]:
    entries = await repo.directory(key.owner_index)
    return vault.read_directory(vault.data_key(key), key.owner_index, entries)


async def suspend_aliases(
    repo: AliasRepository, alias_ids: list[str], cause: SuspensionCause
) -> list[str]:
    """ACTIVE aliases among `alias_ids` become SUSPENDED; one AliasSuspended each."""
    found = await repo.get_aliases(alias_ids)
    changed = sorted(a for a, alias in found.items() if alias.state is AliasState.ACTIVE)
    await repo.set_states(changed, AliasState.SUSPENDED)
    await repo.queue([AliasSuspended(alias_id, cause) for alias_id in changed])
    return changed


async def reinstate_person(repo: AliasRepository, vault: Vault, key: UserKey) -> list[str]:
    """Lifts every suspension of the person, whichever alias it was on."""
    await repo.set_suspended(key.owner_index, False)
    found = await repo.get_aliases(await alias_ids_of(repo, vault, key))
    changed = sorted(a for a, alias in found.items() if alias.state is AliasState.SUSPENDED)
    await repo.set_states(changed, AliasState.ACTIVE)
    await repo.queue([AliasReinstated(alias_id) for alias_id in changed])
    return changed


async def erase_person(repo: AliasRepository, vault: Vault, owner_index: str) -> list[str]:
    """Crypto-shreds the person: AliasOrphaned per alias, queued before the key is gone.

    Returns the aliases that lost their owner; empty if the person was already erased.
    """
    key = await repo.get_user_key(owner_index, for_update=True)
    stored = (await repo.get_people([owner_index])).get(owner_index)
    if stored is not None:
        before = vault.open_person(stored, None)
        await repo.adjust_verified_counts(count_deltas(before, None))
        await repo.delete_person(owner_index)
    if key is None:
        return []
    ids = await alias_ids_of(repo, vault, key)
    live = [a for a, alias in (await repo.get_aliases(ids)).items() if not alias.orphaned]
    await repo.queue([AliasOrphaned(alias_id) for alias_id in sorted(live)])
    await repo.shred(owner_index, ids)
    return ids


class PhysicianFeed:
    """Applies identity's physician events to anonymity's own store."""

    def __init__(self, vault: Vault, *, clock: Callable[[], datetime]) -> None:
        self._vault = vault
        self._clock = clock

    async def apply(self, repo: AliasRepository, change: PhysicianChange) -> None:
        vault = self._vault
        owner_index = vault.owner_index(change.user_id)
        if isinstance(change, PhysicianErased):
            orphaned = await erase_person(repo, vault, owner_index)
            log.info("identity erased a person: %d aliases orphaned", len(orphaned))
            return
        key = await ensure_key(repo, vault, owner_index, self._clock())
        data_key = vault.data_key(key)
        stored = (await repo.get_people([owner_index])).get(owner_index)
        before = vault.open_person(stored, data_key) if stored is not None else None
        after = apply_change(before, change)
        assert after is not None  # only erasure removes the record
        await repo.put_person(vault.seal_person(owner_index, data_key, after), self._clock())
        await repo.adjust_verified_counts(count_deltas(before, after))
        if isinstance(change, PhysicianSuspended):
            await repo.set_suspended(owner_index, True)
            ids = await alias_ids_of(repo, vault, key)
            changed = await suspend_aliases(repo, ids, SuspensionCause.ACCOUNT_SUSPENDED)
            log.info("identity suspended a person: %d aliases suspended", len(changed))
        elif isinstance(change, PhysicianReinstated):
            changed = await reinstate_person(repo, vault, key)
            log.info("identity reinstated a person: %d aliases reinstated", len(changed))
