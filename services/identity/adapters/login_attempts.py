"""Throttle state of sign-in keys in identity's database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.adapters.tables import login_throttle
from services.identity.domain.throttle import ThrottleState


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns; we store UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class SqlLoginAttempts:
    """`LoginAttempts` over one session: the rows are locked until the unit commits.

    Locking them (PostgreSQL: a row lock; SQLite: the write lock the insert takes) makes
    concurrent sign-ins for one email wait for each other, so a burst of guesses cannot all
    be checked before the first failure is counted.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self, keys: Iterable[str]) -> dict[str, ThrottleState]:
        wanted = sorted(set(keys))  # one lock order for everyone: no deadlocks
        insert = postgresql_insert if self._dialect == "postgresql" else sqlite_insert
        for key in wanted:
            await self._session.execute(
                insert(login_throttle).values(key=key, failures=0).on_conflict_do_nothing()
            )
        rows = await self._session.execute(
            select(login_throttle)
            .where(login_throttle.c.key.in_(wanted))
            .order_by(login_throttle.c.key)
            .with_for_update()
        )
        return {row.key: _state(row) for row in rows}

    async def save(self, key: str, state: ThrottleState) -> None:
        await self._session.execute(
            update(login_throttle)
            .where(login_throttle.c.key == key)
            .values(
                failures=state.failures,
                last_failure_at=state.last_failure_at,
                blocked_until=state.blocked_until,
            )
        )

    async def forget(self, keys: Iterable[str]) -> None:
        await self._session.execute(
            delete(login_throttle).where(login_throttle.c.key.in_(list(keys)))
        )

    async def forget_quiet(self, before: datetime, now: datetime) -> int:
        result: Any = await self._session.execute(
            delete(login_throttle).where(
                (login_throttle.c.last_failure_at.is_(None))
                | (login_throttle.c.last_failure_at < before),
                (login_throttle.c.blocked_until.is_(None)) | (login_throttle.c.blocked_until < now),
            )
        )
        return int(result.rowcount or 0)

    @property
    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name


def _state(row: Any) -> ThrottleState:
    return ThrottleState(
        failures=row.failures,
        last_failure_at=_aware(row.last_failure_at),
        blocked_until=_aware(row.blocked_until),
    )
