"""The anonymity store on SQLAlchemy Core: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from plumbing.db import session_factory, transaction
from services.anonymity.adapters.tables import (
    alias_directory,
    aliases,
    identity_access_records,
    thread_scopes,
    user_keys,
)
from services.anonymity.domain.access import AccessRecord
from services.anonymity.domain.aliases import AliasState, StoredAlias, UserKey, Visibility


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone-aware columns; we store UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _alias_from_row(row: Any) -> StoredAlias:
    return StoredAlias(
        alias_id=row.alias_id,
        visibility=Visibility(row.visibility),
        scope_id=row.scope_id,
        state=AliasState(row.state),
        created_at=_aware(row.created_at),
        slot=row.slot,
        owner_seal_kid=row.owner_seal_kid,
        owner_sealed=row.owner_sealed,
        owner_ciphertext=row.owner_ciphertext,
    )


def _key_from_row(row: Any) -> UserKey:
    return UserKey(row.owner_index, row.kid, row.wrapped_key, suspended=bool(row.suspended))


class SqlAliasRepository:
    """`AliasRepository` over one SQLAlchemy session (one transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_scope(self, scope_id: str, now: datetime) -> None:
        await self._session.execute(insert(thread_scopes).values(scope_id=scope_id, created_at=now))

    async def scope_exists(self, scope_id: str) -> bool:
        query = select(exists().where(thread_scopes.c.scope_id == scope_id))
        return bool(await self._session.scalar(query))

    async def get_user_key(self, owner_index: str, *, for_update: bool = False) -> UserKey | None:
        query = select(user_keys).where(user_keys.c.owner_index == owner_index)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        return _key_from_row(row) if row else None

    async def get_user_keys(self, owner_indexes: Iterable[str]) -> dict[str, UserKey]:
        wanted = list(set(owner_indexes))
        if not wanted:
            return {}
        rows = await self._session.execute(
            select(user_keys).where(user_keys.c.owner_index.in_(wanted))
        )
        return {row.owner_index: _key_from_row(row) for row in rows}

    async def add_user_key(self, key: UserKey, now: datetime) -> UserKey:
        try:
            async with self._session.begin_nested():
                await self._session.execute(
                    insert(user_keys).values(
                        owner_index=key.owner_index,
                        kid=key.kid,
                        wrapped_key=key.wrapped_key,
                        suspended=key.suspended,
                        created_at=now,
                    )
                )
        except IntegrityError:
            # A concurrent first alias of the same person stored its key first: use that one.
            existing = await self.get_user_key(key.owner_index)
            if existing is None:
                raise
            return existing
        return key

    async def set_suspended(self, owner_index: str, suspended: bool) -> None:
        await self._session.execute(
            update(user_keys)
            .where(user_keys.c.owner_index == owner_index)
            .values(suspended=suspended)
        )

    async def find_by_slots(self, slots: Iterable[str]) -> dict[str, StoredAlias]:
        wanted = list(set(slots))
        if not wanted:
            return {}
        rows = await self._session.execute(select(aliases).where(aliases.c.slot.in_(wanted)))
        return {row.slot: _alias_from_row(row) for row in rows}

    async def add_alias(self, alias: StoredAlias, owner_index: str, directory_entry: bytes) -> bool:
        try:
            async with self._session.begin_nested():
                await self._session.execute(
                    insert(aliases).values(
                        alias_id=alias.alias_id,
                        visibility=alias.visibility.value,
                        scope_id=alias.scope_id,
                        state=alias.state.value,
                        created_at=alias.created_at,
                        slot=alias.slot,
                        owner_seal_kid=alias.owner_seal_kid,
                        owner_sealed=alias.owner_sealed,
                        owner_ciphertext=alias.owner_ciphertext,
                    )
                )
                await self._session.execute(
                    insert(alias_directory).values(
                        owner_index=owner_index, ciphertext=directory_entry
                    )
                )
        except IntegrityError:
            return False
        return True

    async def get_aliases(self, alias_ids: Iterable[str]) -> dict[str, StoredAlias]:
        wanted = list(set(alias_ids))
        if not wanted:
            return {}
        rows = await self._session.execute(select(aliases).where(aliases.c.alias_id.in_(wanted)))
        return {row.alias_id: _alias_from_row(row) for row in rows}

    async def directory(self, owner_index: str) -> list[bytes]:
        rows = await self._session.execute(
            select(alias_directory.c.ciphertext)
            .where(alias_directory.c.owner_index == owner_index)
            .order_by(alias_directory.c.entry_id)
        )
        return [row.ciphertext for row in rows]

    async def set_states(self, alias_ids: Iterable[str], state: AliasState) -> None:
        wanted = list(set(alias_ids))
        if wanted:
            await self._session.execute(
                update(aliases).where(aliases.c.alias_id.in_(wanted)).values(state=state.value)
            )

    async def shred(self, owner_index: str, alias_ids: Iterable[str]) -> None:
        wanted = list(set(alias_ids))
        if wanted:
            await self._session.execute(
                update(aliases)
                .where(aliases.c.alias_id.in_(wanted))
                .values(
                    state=AliasState.ORPHANED.value,
                    slot=None,
                    owner_seal_kid=None,
                    owner_sealed=None,
                    owner_ciphertext=None,
                )
            )
        await self._session.execute(
            delete(alias_directory).where(alias_directory.c.owner_index == owner_index)
        )
        await self._session.execute(delete(user_keys).where(user_keys.c.owner_index == owner_index))


class SqlAnonymityStore:
    """`AnonymityStore` over an async engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions: async_sessionmaker[AsyncSession] = session_factory(engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlAliasRepository]:
        async with transaction(self._sessions) as session:
            yield SqlAliasRepository(session)


class SqlAccessRecordWriter:
    """`AccessRecordWriter`: each record in its own transaction, committed before returning."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions: async_sessionmaker[AsyncSession] = session_factory(engine)

    async def write(self, record: AccessRecord) -> None:
        async with transaction(self._sessions) as session:
            await session.execute(
                insert(identity_access_records).values(
                    record_id=record.record_id,
                    occurred_at=record.occurred_at,
                    actor_id=record.actor_id,
                    actor_roles=record.actor_roles,
                    subject=record.subject,
                    action=record.action.value,
                    purpose=record.purpose,
                    decision=record.decision.value,
                    reason=record.reason,
                    trace_id=record.trace_id,
                    span_id=record.span_id,
                )
            )
