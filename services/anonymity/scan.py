"""Finding a person's aliases without an index: open the owner seal of every alias row.

O(n) in all aliases, on purpose. An index from person to aliases would be a row that groups
them for anyone holding the database without keys (finding 5), and the rows would be
written in the alias's transaction or order. Only the person's own list (ListAliases) and
erasure need the scan, both rare; it reads in bounded batches by alias id, and opening a
seal is one AES-GCM decryption (microseconds), so a million aliases take seconds.
"""

from __future__ import annotations

from services.anonymity.domain.aliases import StoredAlias
from services.anonymity.ports import AliasRepository
from services.anonymity.vault import Vault

#: Alias rows read per query while scanning.
SCAN_BATCH = 500


async def owned_aliases(repo: AliasRepository) -> list[StoredAlias]:
    """Every alias that still has an owner seal, in batches by alias id."""
    found: list[StoredAlias] = []
    after = ""
    while batch := await repo.owned_aliases_after(after, SCAN_BATCH):
        found += batch
        after = batch[-1].alias_id
    return found


async def aliases_of(repo: AliasRepository, vault: Vault, owner_index: str) -> list[StoredAlias]:
    """The person's aliases, by opening every alias's owner seal."""
    found: list[StoredAlias] = []
    after = ""
    while batch := await repo.owned_aliases_after(after, SCAN_BATCH):
        found += [alias for alias in batch if vault.owns(alias, owner_index)]
        after = batch[-1].alias_id
    return found
