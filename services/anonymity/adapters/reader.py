"""The alias reads behind the feed, on statements built once, over a session or a connection.

Building a Core statement per call costs more than running it (coercing clauses, then a fresh
cache key before the compiled form is found); a statement built once keeps its memoised cache
key, so each call goes straight to the compiled SQL. Lists are expanding parameters (`:ids`).
Read-only calls (BatchCheckOwnership, BatchGetThreadAliases, BatchDescribeAliases,
CheckAliasOwners) run these on a pooled connection of their own, without an ORM session:
nothing to commit, one rollback when the connection goes back to the pool. A unit of work's
repository inherits them, so writes read the same rows the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from plumbing.inline_reads import ReadConnection
from services.anonymity.adapters.tables import aliases, user_keys
from services.anonymity.domain.aliases import (
    AliasState,
    FrozenPersona,
    StoredAlias,
    UserKey,
    Visibility,
)

#: What the reads run on: a unit of work's session, or a bare connection for read-only calls.
Executor = AsyncSession | ReadConnection

ALIASES_BY_ID = select(aliases).where(aliases.c.alias_id.in_(bindparam("ids", expanding=True)))
ALIASES_BY_SLOT = select(aliases).where(aliases.c.slot.in_(bindparam("ids", expanding=True)))
#: Only what BatchGetThreadAliases answers: no alias row to build per scope.
ALIAS_IDS_BY_SLOT = select(aliases.c.slot, aliases.c.alias_id).where(
    aliases.c.slot.in_(bindparam("ids", expanding=True))
)
USER_KEYS_BY_INDEX = select(user_keys).where(
    user_keys.c.owner_index.in_(bindparam("ids", expanding=True))
)

_VISIBILITIES = {v.value: v for v in Visibility}
_STATES = {s.value: s for s in AliasState}


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone-aware columns; we store UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def persona_from_row(row: Any) -> FrozenPersona | None:
    if row.persona_handle is None:
        return None
    return FrozenPersona(
        handle=row.persona_handle,
        verified_physician=bool(row.persona_verified),
        specialty_code=row.persona_specialty_code,
        specialty_name=row.persona_specialty_name,
    )


def alias_from_row(row: Any) -> StoredAlias:
    return StoredAlias(
        alias_id=row.alias_id,
        visibility=_VISIBILITIES[row.visibility],
        scope_id=row.scope_id,
        state=_STATES[row.state],
        created_at=_aware(row.created_at),
        slot=row.slot,
        owner_seal_kid=row.owner_seal_kid,
        owner_sealed=row.owner_sealed,
        owner_ciphertext=row.owner_ciphertext,
        persona=persona_from_row(row),
        name_ciphertext=row.name_ciphertext,
    )


def key_from_row(row: Any) -> UserKey:
    return UserKey(row.owner_index, row.kid, row.wrapped_key, suspended=bool(row.suspended))


class SqlAliasReader:
    """`AliasReader` over a session or a connection: aliases by id or slot, data keys."""

    def __init__(self, session: Executor) -> None:
        self._session = session

    async def _rows(self, query: Any, wanted: list[str]) -> Any:
        return (await self._session.execute(query, {"ids": wanted})).all()

    async def get_aliases(self, alias_ids: Iterable[str]) -> dict[str, StoredAlias]:
        wanted = list(set(alias_ids))
        if not wanted:
            return {}
        return {
            row.alias_id: alias_from_row(row) for row in await self._rows(ALIASES_BY_ID, wanted)
        }

    async def find_by_slots(self, slots: Iterable[str]) -> dict[str, StoredAlias]:
        wanted = list(set(slots))
        if not wanted:
            return {}
        return {row.slot: alias_from_row(row) for row in await self._rows(ALIASES_BY_SLOT, wanted)}

    async def alias_ids_by_slots(self, slots: Iterable[str]) -> dict[str, str]:
        wanted = list(set(slots))
        if not wanted:
            return {}
        return {row.slot: row.alias_id for row in await self._rows(ALIAS_IDS_BY_SLOT, wanted)}

    async def get_user_keys(self, owner_indexes: Iterable[str]) -> dict[str, UserKey]:
        wanted = list(set(owner_indexes))
        if not wanted:
            return {}
        rows = await self._rows(USER_KEYS_BY_INDEX, wanted)
        return {row.owner_index: key_from_row(row) for row in rows}
