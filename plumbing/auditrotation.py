"""Rotating a producer's audit signing key: a KEY_ROTATED event in its chain, signed by the old key.

The operator's path is a restart: set the new key where the old one was
(`CONSILIUM_<C>_AUDIT_SIGNING_KEY` or `_FILE`) and the old one in
`CONSILIUM_<C>_AUDIT_PREVIOUS_SIGNING_KEY` (or `_FILE`); in dev, `consilium audit rotate-key
--service <c>` moves the dev key aside as the previous one and makes a new one. At start-up,
before serving, `rotate_at_start` looks at the chain row's `key_id`:

- the new key already signs the chain: nothing to do (restarts, further replicas);
- the previous key signs it: one KEY_ROTATED event is appended, signed by the previous key,
  carrying the new public key, and the row moves to the new key, all in one transaction;
- another key signs it: start-up fails, naming both ids; never a silent switch.

A replica still holding the old key then refuses to sign (`ChainRow.append`), so no event after
the rotation is signed with the retired key. Verifiers accept the new key only from this event
(`plumbing.auditchain`); the pinned configuration keeps naming the chain's first key.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from consilium.audit.v1 import audit_pb2 as pb
from consilium.events.v1 import audit_events_pb2 as epb
from plumbing.auditchain_row import AuditChainError, ChainRow
from plumbing.auditkeys import AuditSigningKey
from plumbing.events.envelope import new_event
from plumbing.events.outbox import add_to_outbox
from plumbing.events.topics import AUDIT_IDENTITY_ACCESS
from plumbing.timestamps import set_timestamp

log = logging.getLogger("consilium.audit.keys")


def rotation_event(producer: str, new_key: AuditSigningKey) -> pb.AuditEvent:
    """The KEY_ROTATED event (chain fields left to the chain): the producer acting as itself."""
    event = pb.AuditEvent(
        event_id=str(uuid.uuid4()),
        producer=producer,
        actor_id=producer,
        actor_role=pb.ACTOR_ROLE_SERVICE,
        action=pb.ACTION_KEY_ROTATED,
        decision=pb.DECISION_GRANTED,
        fields=["audit_signing_key"],
        new_public_key=new_key.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw),
    )
    set_timestamp(event.occurred_at, datetime.now(UTC))
    return event


async def rotate_at_start(
    engine: AsyncEngine,
    chain: Table,
    outbox: Table,
    *,
    producer: str,
    key: AuditSigningKey,
    previous: AuditSigningKey | None,
    source: str,
) -> pb.AuditEvent | None:
    """Brings the chain to `key`; returns the KEY_ROTATED event when it wrote one."""
    async with AsyncSession(engine) as session, session.begin():
        where = chain.c.producer == producer
        # Takes the row lock first, as every writer does, so no event slips in between.
        await ChainRow(chain, producer, key).lock(session)
        row = (await session.execute(select(chain.c.sequence, chain.c.key_id).where(where))).one()
        current = row.key_id
        if current == key.key_id:
            return None
        if previous is None or previous.key_id == key.key_id:
            if current is None:
                # A chain from before keys were recorded (or an empty one): this key signs it.
                await session.execute(update(chain).where(where).values(key_id=key.key_id))
                return None
            raise AuditChainError(
                f"the {producer} audit chain is signed with key {current}, not {key.key_id}: "
                f"to rotate, set CONSILIUM_{producer.upper()}_AUDIT_PREVIOUS_SIGNING_KEY "
                "(or _FILE) to the key that signs it"
            )
        if current not in (None, previous.key_id):
            raise AuditChainError(
                f"the {producer} audit chain is signed with key {current}, neither the "
                f"configured key {key.key_id} nor the previous key {previous.key_id}"
            )
        if current is None and int(row.sequence) == 0:
            await session.execute(update(chain).where(where).values(key_id=key.key_id))
            return None
        event = rotation_event(producer, key)
        await session.execute(update(chain).where(where).values(key_id=previous.key_id))
        await ChainRow(chain, producer, previous).append(session, [event])
        await session.execute(update(chain).where(where).values(key_id=key.key_id))
        envelope = new_event(
            epb.IdentityAccessRecorded(event=event),
            topic=AUDIT_IDENTITY_ACCESS,
            key=producer,
            source=source,
        )
        await add_to_outbox(session, outbox, [envelope])
    log.info(
        "%s audit signing key rotated: %s -> %s (KEY_ROTATED event %d)",
        producer,
        previous.key_id,
        key.key_id,
        event.sequence,
    )
    return event
