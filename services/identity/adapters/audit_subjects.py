"""The person links of identity's audit events: blind tags, sealed user ids, shredded keys.

Identity's audit events never carry a subject's user id in clear: `subject_id` is the blind
tag (HMAC under the audit tag key, which identity and the audit ledger hold) and
`sealed_subject` the user id sealed under the person's own audit sealing key, kept in
`audit_subject_keys` (see plumbing.auditlink). Erasing the person deletes that key: the
link can never be opened again, while the signed event bytes still verify. Who holds what:
identity holds the sealing keys (only identity can open a link, and only while the person
exists) and the tag key; the ledger holds the tag key to find a person's events when an
auditor asks by user id.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from consilium.audit.v1 import audit_pb2 as apb
from plumbing.auditlink import (
    AuditLinkError,
    new_sealing_key,
    open_subject,
    seal_subject,
    subject_tag,
)
from services.identity.adapters.tables import audit_subject_keys


class AuditSubjects:
    """Replaces user ids in audit events by tags and sealed links; shreds a person's key."""

    def __init__(self, tag_key: bytes) -> None:
        self._tag_key = tag_key

    def tag(self, user_id: str) -> str:
        return subject_tag(self._tag_key, user_id)

    async def blind(self, session: AsyncSession, events: Sequence[apb.AuditEvent]) -> None:
        """Rewrites each event's user subject in place: tag in `subject_id`, id sealed.

        An actor who is their own subject is replaced by the tag too.

        Run it inside the chain's lock (before hashing): key rows are created then, so two
        transactions never race to create one person's key.
        """
        people = [e for e in events if e.subject_kind == apb.SUBJECT_KIND_USER and e.subject_id]
        if not people:
            return
        keys = await self._keys(session, {e.subject_id for e in people})
        for event in people:
            user_id = event.subject_id
            event.sealed_subject = seal_subject(keys[user_id], user_id, event_id=event.event_id)
            event.subject_id = self.tag(user_id)
            event.subject_kind = apb.SUBJECT_KIND_USER_TAG
            if event.actor_id == user_id:
                # Someone acting on themself (erasing their account): the actor is the same
                # person, named by the same tag, so no clear id outlives their erasure.
                event.actor_id = event.subject_id

    async def open(self, session: AsyncSession, event: apb.AuditEvent, user_id: str) -> bool:
        """Whether `event`'s sealed link names `user_id` (False once they were erased)."""
        if event.subject_id != self.tag(user_id):
            return False
        key = await session.scalar(
            select(audit_subject_keys.c.sealing_key).where(audit_subject_keys.c.user_id == user_id)
        )
        if key is None:
            return False
        try:
            return (
                open_subject(bytes(key), bytes(event.sealed_subject), event_id=event.event_id)
                == user_id
            )
        except AuditLinkError:
            return False

    @staticmethod
    async def shred(session: AsyncSession, user_id: str) -> None:
        """Deletes the person's sealing key: every link to them in the ledger is gone."""
        await session.execute(
            delete(audit_subject_keys).where(audit_subject_keys.c.user_id == user_id)
        )

    @staticmethod
    async def _keys(session: AsyncSession, user_ids: set[str]) -> dict[str, bytes]:
        table = audit_subject_keys
        rows = await session.execute(
            select(table.c.user_id, table.c.sealing_key).where(table.c.user_id.in_(user_ids))
        )
        keys = {row.user_id: bytes(row.sealing_key) for row in rows}
        missing = sorted(user_ids - keys.keys())
        if missing:
            created = {user_id: new_sealing_key() for user_id in missing}
            await session.execute(
                insert(table), [{"user_id": u, "sealing_key": k} for u, k in created.items()]
            )
            keys.update(created)
        return keys
