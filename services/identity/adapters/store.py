"""The identity store on SQLAlchemy Core: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from plumbing.auditchain_row import AuditChainError
from plumbing.db import session_factory, transaction
from plumbing.errors import AlreadyExists, FieldViolation
from plumbing.events.outbox import add_to_outbox
from plumbing.logging import also_redact
from services.identity.adapters.audit import (
    AuditChain,
    access_to_proto,
    audit_envelope,
    current_trace_ids,
)
from services.identity.adapters.audit_subjects import AuditSubjects
from services.identity.adapters.events import to_envelope
from services.identity.adapters.follows import FollowQueries
from services.identity.adapters.login_attempts import SqlLoginAttempts
from services.identity.adapters.tables import audit_subject_keys, event_tables, physicians
from services.identity.domain.access import IdentityAccess
from services.identity.domain.events import PhysicianEvent
from services.identity.domain.physician import Physician, Role, VerificationStatus

_ALREADY_REGISTERED = "is already registered; sign in instead, or use another"


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone-aware columns; we store UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _to_row(physician: Physician) -> dict[str, Any]:
    erased = physician.erased
    return {
        "user_id": physician.user_id,
        "email": None if erased else physician.email,
        "full_name": None if erased else physician.full_name,
        "npi": None if erased else physician.npi,
        "specialty_code": physician.specialty_code,
        "country": physician.country,
        "verification": physician.verification.value,
        "suspended_from": physician.suspended_from.value if physician.suspended_from else None,
        "roles": ",".join(sorted(r.value for r in physician.roles)),
        "created_at": physician.created_at,
    }


def _from_row(row: Any) -> Physician:
    # Whoever this request loads, no later log line of it may name them (finding 8).
    also_redact([row.full_name or ""])
    return Physician(
        user_id=row.user_id,
        email=row.email or "",
        full_name=row.full_name or "",
        npi=row.npi or "",
        specialty_code=row.specialty_code,
        country=row.country,
        verification=VerificationStatus(row.verification),
        roles=frozenset(Role(r) for r in row.roles.split(",") if r),
        created_at=_aware(row.created_at),
        erased=row.erased_at is not None,
        suspended_from=VerificationStatus(row.suspended_from) if row.suspended_from else None,
    )


class SqlPhysicianRepository(FollowQueries):
    """`PhysicianRepository` over one SQLAlchemy session (one transaction)."""

    def __init__(self, session: AsyncSession, chain: AuditChain | None = None) -> None:
        self._session = session
        self._chain = chain
        #: Whether this unit queued events (so the relay can be woken after the commit).
        self.emitted = False
        self.login_attempts = SqlLoginAttempts(session)

    async def add(self, physician: Physician, password_hash: str) -> None:
        now = datetime.now(UTC)
        try:
            async with self._session.begin_nested():
                await self._session.execute(
                    insert(physicians).values(
                        **_to_row(physician), password_hash=password_hash, updated_at=now
                    )
                )
        except IntegrityError:
            # A concurrent registration won the race after our pre-check.
            taken = await self.taken_fields(physician.email, physician.npi)
            raise AlreadyExists(
                "an account with these details already exists",
                violations=[FieldViolation(f, _ALREADY_REGISTERED) for f in taken or ["email"]],
            ) from None

    async def get(self, user_id: str, *, for_update: bool = False) -> Physician | None:
        query = select(physicians).where(physicians.c.user_id == user_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        return _from_row(row) if row else None

    async def get_many(self, user_ids: Iterable[str]) -> dict[str, Physician]:
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            return {}
        rows = await self._session.execute(
            select(physicians).where(physicians.c.user_id.in_(wanted))
        )
        return {row.user_id: _from_row(row) for row in rows}

    async def find_login(self, email: str) -> tuple[Physician, str] | None:
        row = (
            await self._session.execute(select(physicians).where(physicians.c.email == email))
        ).first()
        if row is None or row.password_hash is None:
            return None
        return _from_row(row), row.password_hash

    async def taken_fields(self, email: str, npi: str) -> list[str]:
        taken = []
        for name, column, value in (
            ("email", physicians.c.email, email),
            ("npi", physicians.c.npi, npi),
        ):
            if await self._session.scalar(select(exists().where(column == value))):
                taken.append(name)
        return taken

    async def save(self, physician: Physician) -> None:
        values = _to_row(physician)
        values["updated_at"] = datetime.now(UTC)
        if physician.erased:
            values["password_hash"] = None
            values["erased_at"] = values["updated_at"]
            # In the erasing transaction: the person's audit links and follows die with their data.
            await AuditSubjects.shred(self._session, physician.user_id)
            await self.forget_follows(physician.user_id)
        await self._session.execute(
            update(physicians).where(physicians.c.user_id == physician.user_id).values(**values)
        )

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._session.execute(
            update(physicians)
            .where(physicians.c.user_id == user_id)
            .values(password_hash=password_hash)
        )

    async def count_verified_by_specialty(self) -> dict[str, int]:
        rows = await self._session.execute(
            select(physicians.c.specialty_code, func.count())
            .where(physicians.c.verification == VerificationStatus.VERIFIED.value)
            .where(physicians.c.erased_at.is_(None))
            .group_by(physicians.c.specialty_code)
        )
        return {code: count for code, count in rows}

    async def has_any(self) -> bool:
        return bool(await self._session.scalar(select(exists().select_from(physicians))))

    async def emit(self, events: Sequence[PhysicianEvent]) -> None:
        await add_to_outbox(self._session, event_tables.outbox, [to_envelope(e) for e in events])
        self.emitted = self.emitted or bool(events)

    async def erasure_candidates(self) -> list[str]:
        unerased = select(physicians.c.user_id).where(physicians.c.erased_at.is_(None))
        keyed = select(audit_subject_keys.c.user_id)
        return list((await self._session.scalars(unerased.union(keyed))).all())

    async def shred_audit_key(self, user_id: str) -> None:
        await AuditSubjects.shred(self._session, user_id)

    async def lock_audit_chain(self) -> None:
        if self._chain is None:
            raise AuditChainError("this store was built without an audit chain")
        await self._chain.lock(self._session)

    async def record_accesses(self, accesses: Sequence[IdentityAccess]) -> None:
        if not accesses:
            return
        if self._chain is None:
            raise AuditChainError("this store was built without an audit chain")
        trace_id, span_id = current_trace_ids()
        events = [access_to_proto(a, trace_id=trace_id, span_id=span_id) for a in accesses]
        await self._chain.append(self._session, events)
        await add_to_outbox(self._session, event_tables.outbox, [audit_envelope(e) for e in events])
        self.emitted = True


class SqlIdentityStore:
    """`IdentityStore` over an async engine; events queued in a unit go to its outbox.

    `on_emitted` runs after a unit that queued events has committed (the relay's `notify`),
    so events leave at once instead of at the relay's next poll. `chain` numbers and signs
    recorded identity accesses; a store without one (operator tools) cannot record them.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        chain: AuditChain | None = None,
        on_emitted: Callable[[], None] | None = None,
    ) -> None:
        self._sessions: async_sessionmaker[AsyncSession] = session_factory(engine)
        self._chain = chain
        self._on_emitted = on_emitted

    @property
    def audit_subjects(self) -> AuditSubjects:
        """How audit events name people (tags, sealed links); needs the audit chain."""
        if self._chain is None:
            raise AuditChainError("this store was built without an audit chain")
        return self._chain.subjects

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlPhysicianRepository]:
        async with transaction(self._sessions) as session:
            repo = SqlPhysicianRepository(session, self._chain)
            yield repo
        if repo.emitted and self._on_emitted is not None:
            self._on_emitted()
