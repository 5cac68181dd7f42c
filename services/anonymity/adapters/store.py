"""The anonymity store on SQLAlchemy Core: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from plumbing.db import session_factory, transaction
from plumbing.events.outbox import add_to_outbox
from plumbing.inline_reads import read_connection
from services.anonymity.adapters.audit_chain import AuditChain
from services.anonymity.adapters.event_converters import (
    alias_envelope,
    audit_envelope,
    audit_event_to_proto,
)
from services.anonymity.adapters.index_store import SqlIndexRepository
from services.anonymity.adapters.reader import SqlAliasReader, alias_from_row, key_from_row
from services.anonymity.adapters.tables import (
    aliases,
    event_tables,
    identity_access_records,
    person_records,
    thread_scopes,
    user_keys,
    verified_counts,
)
from services.anonymity.domain.access import AccessRecord
from services.anonymity.domain.aliases import (
    AliasState,
    FrozenPersona,
    StoredAlias,
    UserKey,
)
from services.anonymity.domain.events import AliasEvent
from services.anonymity.domain.people import StoredPerson

#: Called after a commit that queued events, so the outbox relay looks at once.
Notify = Callable[[], None]


def _no_notify() -> None:
    return None


def _day(moment: datetime) -> datetime:
    """Owner-keyed rows keep dates only, so their times cannot be matched to an alias's."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _persona_values(persona: FrozenPersona | None, name: bytes | None) -> dict[str, Any]:
    return {
        "persona_handle": persona.handle if persona else None,
        "persona_verified": persona.verified_physician if persona else None,
        "persona_specialty_code": persona.specialty_code if persona else None,
        "persona_specialty_name": persona.specialty_name if persona else None,
        "name_ciphertext": name,
    }


class SqlAliasRepository(SqlAliasReader):
    """`AliasRepository` over one SQLAlchemy session (one transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._session: AsyncSession = session
        #: How many events this transaction queued in the outbox.
        self.queued = 0
        self.index = SqlIndexRepository(session)

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
        return key_from_row(row) if row else None

    async def add_user_key(self, key: UserKey) -> UserKey:
        try:
            async with self._session.begin_nested():
                await self._session.execute(
                    insert(user_keys).values(
                        owner_index=key.owner_index,
                        kid=key.kid,
                        wrapped_key=key.wrapped_key,
                        suspended=key.suspended,
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

    async def add_alias(self, alias: StoredAlias) -> bool:
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
                        **_persona_values(alias.persona, alias.name_ciphertext),
                    )
                )
        except IntegrityError:
            return False
        return True

    async def owned_aliases_after(self, after: str, limit: int) -> list[StoredAlias]:
        rows = await self._session.execute(
            select(aliases)
            .where(aliases.c.alias_id > after, aliases.c.owner_sealed.is_not(None))
            .order_by(aliases.c.alias_id)
            .limit(limit)
        )
        return [alias_from_row(row) for row in rows]

    async def unfrozen_aliases_after(self, after: str, limit: int) -> list[StoredAlias]:
        rows = await self._session.execute(
            select(aliases)
            .where(aliases.c.alias_id > after, aliases.c.persona_handle.is_(None))
            .order_by(aliases.c.alias_id)
            .limit(limit)
        )
        return [alias_from_row(row) for row in rows]

    async def freeze_persona(
        self, alias_id: str, persona: FrozenPersona, name_ciphertext: bytes | None
    ) -> None:
        await self._session.execute(
            update(aliases)
            .where(aliases.c.alias_id == alias_id, aliases.c.persona_handle.is_(None))
            .values(**_persona_values(persona, name_ciphertext))
        )

    async def set_states(self, alias_ids: Iterable[str], state: AliasState) -> None:
        wanted = list(set(alias_ids))
        if wanted:
            await self._session.execute(
                update(aliases).where(aliases.c.alias_id.in_(wanted)).values(state=state.value)
            )

    async def rewrite_owner(self, alias: StoredAlias) -> None:
        await self._session.execute(
            update(aliases)
            .where(aliases.c.alias_id == alias.alias_id)
            .values(
                slot=alias.slot,
                owner_seal_kid=alias.owner_seal_kid,
                owner_sealed=alias.owner_sealed,
                owner_ciphertext=alias.owner_ciphertext,
                name_ciphertext=alias.name_ciphertext,
            )
        )

    async def delete_user_key(self, owner_index: str) -> None:
        await self._session.execute(delete(user_keys).where(user_keys.c.owner_index == owner_index))

    async def get_people(self, owner_indexes: Iterable[str]) -> dict[str, StoredPerson]:
        wanted = list(set(owner_indexes))
        if not wanted:
            return {}
        rows = await self._session.execute(
            select(person_records).where(person_records.c.owner_index.in_(wanted))
        )
        return {
            row.owner_index: StoredPerson(row.owner_index, row.kid, row.sealed, row.name_ciphertext)
            for row in rows
        }

    async def put_person(self, person: StoredPerson, now: datetime) -> None:
        values = {
            "kid": person.kid,
            "sealed": person.sealed,
            "name_ciphertext": person.name_ciphertext,
            "updated_at": _day(now),
        }
        # One person's events are applied one at a time (ordered by key, and the data key
        # row is locked), so update-else-insert does not race with itself.
        result = await self._session.execute(
            update(person_records)
            .where(person_records.c.owner_index == person.owner_index)
            .values(**values)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            await self._session.execute(
                insert(person_records).values(owner_index=person.owner_index, **values)
            )

    async def delete_person(self, owner_index: str) -> None:
        await self._session.execute(
            delete(person_records).where(person_records.c.owner_index == owner_index)
        )

    async def adjust_verified_counts(self, deltas: Mapping[str, int]) -> None:
        # Sorted, so concurrent transactions lock count rows in one order (no deadlock).
        for code, delta in sorted(deltas.items()):
            if await self._add_to_count(code, delta):
                continue
            try:
                async with self._session.begin_nested():
                    await self._session.execute(
                        insert(verified_counts).values(specialty_code=code, verified=delta)
                    )
            except IntegrityError:
                # Another transaction created the row first; add to it.
                await self._add_to_count(code, delta)

    async def _add_to_count(self, code: str, delta: int) -> bool:
        result = await self._session.execute(
            update(verified_counts)
            .where(verified_counts.c.specialty_code == code)
            .values(verified=verified_counts.c.verified + delta)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def verified_counts(self) -> dict[str, int]:
        rows = await self._session.execute(
            select(verified_counts).where(verified_counts.c.verified > 0)
        )
        return {row.specialty_code: row.verified for row in rows}

    async def queue(self, events: Sequence[AliasEvent]) -> None:
        await add_to_outbox(
            self._session, event_tables.outbox, [alias_envelope(event) for event in events]
        )
        self.queued += len(events)


class SqlAnonymityStore:
    """`AnonymityStore` over an async engine; `notify` runs after commits that queued events."""

    def __init__(self, engine: AsyncEngine, *, notify: Notify = _no_notify) -> None:
        self._engine = engine
        self._sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
        self._notify = notify

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlAliasRepository]:
        async with transaction(self._sessions) as session:
            repo = SqlAliasRepository(session)
            yield repo
        if repo.queued:
            self._notify()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SqlAliasReader]:
        """Reads on a connection of their own, without a session (nothing to commit): inline
        on a SQLite file (plumbing.inline_reads), else pooled."""
        async with read_connection(self._engine) as connection:
            yield SqlAliasReader(connection)


class SqlAccessRecordWriter:
    """`AccessRecordWriter`: each record in its own transaction, committed before returning.

    In that transaction the record's audit event takes the next place in the audit chain
    and is queued as `IdentityAccessRecorded`: record, event and chain row commit together
    or not at all. No record, no event, no sequence used, and nothing revealed (P3, A2).
    """

    def __init__(
        self, engine: AsyncEngine, chain: AuditChain, *, notify: Notify = _no_notify
    ) -> None:
        self._sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
        self._chain = chain
        self._notify = notify

    async def write(self, record: AccessRecord) -> None:
        event = audit_event_to_proto(record)
        async with transaction(self._sessions) as session:
            # First statement of the transaction: the chain lock is taken before any read.
            await self._chain.append(session, event)
            await add_to_outbox(session, event_tables.outbox, [audit_envelope(event)])
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
        self._notify()
