"""Erasure: crypto-shred a person, and leave no row stamp that groups their aliases (P6, P2).

Deleting the person's data key makes their user id and display name on every alias row
unreadable. The owner seal and the slot would still find the aliases for whoever holds
the master and index keys and a user id, so they are overwritten too, with a tombstone:
a seal of a random index that belongs to nobody, a random slot, random ciphertexts of the
same lengths. A tombstoned row looks like any other, so a reader without keys cannot
pick out erased aliases in one snapshot.

All of this is one transaction, and PostgreSQL stamps every row it writes with the same
xmin: alone, that would group the erased aliases for a keyless reader. So the same
transaction also rewrites decoys, `DECOYS_PER_ALIAS` random other aliases per erased one,
re-sealing their (unchanged) owner fields with fresh nonces: the xmin group holds the
person's aliases among many others', with nothing to tell them apart. Accepted: a reader
holding snapshots from before and after sees which slots changed (the tombstones), and so
which aliases belonged to one erased, unnamed person (a residual for the threat model).

Announces nothing: content keeps the posts as they were, and personas keep their frozen
face except the IDENTIFIED alias's display name.

A restore from a backup taken before the erasure would bring the data key back, and with
it the mapping. So erasure first appends the owner index to the erasure log
(plumbing.erasurelog, a file database restores do not reach), fsynced, before the caller's
transaction commits; `replay_erasures` runs at start, before the service serves, and
shreds again everyone the log lists whom the database still holds a key or record for.
"""

from __future__ import annotations

import logging
import secrets

from plumbing.erasurelog import ErasureLog, replay
from services.anonymity.domain.aliases import StoredAlias
from services.anonymity.domain.crypto import CryptoError
from services.anonymity.domain.people import count_deltas
from services.anonymity.ports import AliasRepository, AnonymityStore
from services.anonymity.scan import owned_aliases
from services.anonymity.vault import Vault

log = logging.getLogger("consilium.anonymity")

#: Other aliases rewritten per erased alias, so one transaction's rows group nobody.
DECOYS_PER_ALIAS = 4
#: Owner indexes looked up per query when the log is replayed.
REPLAY_BATCH = 500


async def erase_person(
    repo: AliasRepository, vault: Vault, erasures: ErasureLog, owner_index: str
) -> list[str]:
    """Logs the erasure, then crypto-shreds the person in the caller's transaction; the
    aliases that lost their owner (empty if repeated).

    The log line is on disk before this returns, so before the transaction can commit: a
    crash in between leaves a logged erasure that the next start completes.
    """
    await erasures.record(owner_index)
    return await _shred(repo, vault, owner_index)


async def replay_erasures(store: AnonymityStore, vault: Vault, erasures: ErasureLog) -> int:
    """Erases again everyone the log lists who still has a data key or person record; how
    many. Idempotent; run it before serving (and before the event consumers start)."""
    logged = sorted(erasures.indexes())
    present: set[str] = set()
    async with store.transaction() as repo:
        for start in range(0, len(logged), REPLAY_BATCH):
            batch = logged[start : start + REPLAY_BATCH]
            present |= set(await repo.get_user_keys(batch))
            present |= set(await repo.get_people(batch))

    async def again(owner_index: str) -> None:
        async with store.transaction() as repo:
            await _shred(repo, vault, owner_index)

    count = await replay(erasures, ((index, index) for index in sorted(present)), again)
    log.info("erasure log replayed: %d of %d logged people erased again", count, len(logged))
    return count


async def _shred(repo: AliasRepository, vault: Vault, owner_index: str) -> list[str]:
    """Deletes the person's record and key, tombstones their aliases among decoys."""
    await repo.get_user_key(owner_index, for_update=True)
    stored = (await repo.get_people([owner_index])).get(owner_index)
    if stored is not None:
        before = vault.open_person(stored, None)
        await repo.adjust_verified_counts(count_deltas(before, None))
        await repo.delete_person(owner_index)
    everyone = await owned_aliases(repo)
    mine = [alias for alias in everyone if vault.owns(alias, owner_index)]
    others = [alias for alias in everyone if not vault.owns(alias, owner_index)]
    decoys = _sample(others, DECOYS_PER_ALIAS * len(mine)) if mine else []
    resealed = await _resealed(repo, vault, decoys)
    await repo.delete_user_key(owner_index)
    # One order for all rewrites (by alias id), so the write order says nothing either.
    rewrites = [vault.tombstone(alias) for alias in mine] + resealed
    for alias in sorted(rewrites, key=lambda a: a.alias_id):
        await repo.rewrite_owner(alias)
    return sorted(alias.alias_id for alias in mine)


def _sample(aliases: list[StoredAlias], count: int) -> list[StoredAlias]:
    pool = list(aliases)
    picked: list[StoredAlias] = []
    while pool and len(picked) < count:
        picked.append(pool.pop(secrets.randbelow(len(pool))))
    return picked


async def _resealed(
    repo: AliasRepository, vault: Vault, decoys: list[StoredAlias]
) -> list[StoredAlias]:
    """The decoys with every owner field re-encrypted under fresh nonces, meaning unchanged."""
    indexes: dict[str, str] = {}
    for alias in decoys:
        try:
            indexes[alias.alias_id] = vault.owner_index_of(alias)
        except CryptoError:
            continue
    keys = await repo.get_user_keys(set(indexes.values()))
    resealed: list[StoredAlias] = []
    for alias in decoys:
        key = keys.get(indexes.get(alias.alias_id, ""))
        if key is None:
            # Erased before (a tombstone) or unreadable: new random values are as good.
            resealed.append(vault.tombstone(alias))
            continue
        try:
            resealed.append(vault.reseal(alias, indexes[alias.alias_id], vault.data_key(key)))
        except CryptoError:
            log.warning("a decoy alias did not open; left as it was")
    return resealed
