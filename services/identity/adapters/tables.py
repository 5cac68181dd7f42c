"""The identity database schema (SQLAlchemy Core), the one source for migrations and queries."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from plumbing.events.runtime import EventTables

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

physicians = Table(
    "physicians",
    metadata,
    Column("user_id", String(40), primary_key=True),
    # Personal fields are nullable so erasure can remove them while the row (and the id that
    # anonymity's records point at) stays.
    Column("email", String(320), nullable=True, unique=True),
    Column("full_name", String(200), nullable=True),
    Column("npi", String(10), nullable=True, unique=True),
    Column("password_hash", Text, nullable=True),
    Column("specialty_code", String(10), nullable=False),
    Column("country", String(2), nullable=False),
    Column("verification", String(16), nullable=False),
    Column("suspended_from", String(16), nullable=True),
    Column("roles", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)
Index(
    "ix_physicians_specialty_verification", physicians.c.specialty_code, physicians.c.verification
)

#: Identity's audit chain (plumbing.auditchain): one row per producer (only "identity"),
#: seeded by the migration at sequence 0 and the genesis hash, holding the last sequence
#: handed out and that event's hash. Every audit event locks and advances the row in the
#: transaction that queues the event, so sequences are gap-free and unique.
audit_chain = Table(
    "audit_chain",
    metadata,
    Column("producer", String(40), primary_key=True),
    Column("sequence", BigInteger, nullable=False),
    Column("last_hash", LargeBinary, nullable=False),
    # The key signing the chain now; a replica holding another key refuses to sign.
    Column("key_id", String(64), nullable=True),
)

#: Each person's audit sealing key (plumbing.auditlink): identity's audit events carry the
#: subject's user id sealed under it. Erasure deletes the row, which shreds every such link
#: while the signed events stay verifiable. Created when the person is first audited.
audit_subject_keys = Table(
    "audit_subject_keys",
    metadata,
    Column("user_id", String(40), primary_key=True),
    Column("sealing_key", LargeBinary, nullable=False),
)

#: Failed sign-ins per throttle key (services.identity.domain.throttle), shared by every
#: replica. `key` is an HMAC of the normalised email (and client address) under identity's
#: throttle key: the table names no email or address, and says nothing of which emails have
#: accounts (unknown ones are counted alike).
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", DateTime(timezone=True), nullable=True),
    Column("blocked_until", DateTime(timezone=True), nullable=True),
)
Index("ix_login_throttle_last_failure_at", login_throttle.c.last_failure_at)

#: Which communities each person follows (their following feed). Per-person data kept here,
#: by user id, never at content; erasure deletes the person's rows (migration 0007).
community_follows = Table(
    "community_follows",
    metadata,
    Column("user_id", String(40), primary_key=True),
    Column("community_id", String(64), primary_key=True),
    Column("followed_at", DateTime(timezone=True), nullable=False),
)

#: The outbox the relay publishes from, and processed event ids (identity consumes nothing yet).
event_tables = EventTables.add_to(metadata)
