"""The audit database schema (SQLAlchemy Core), the one source for migrations and queries.

The ledger is append-only: the service inserts and selects, never updates or deletes. Each
row keeps the event's exact protobuf bytes (`data`) so verification re-hashes what the
producer signed; the other columns only index it for queries.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

from plumbing.events.runtime import EventTables

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("producer", String(64), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("event_id", String(64), nullable=False, unique=True),
    # Microseconds since the epoch: exact ordering on SQLite and PostgreSQL alike.
    Column("occurred_at_us", BigInteger, nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("subject_kind", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("decision", String(32), nullable=False),
    Column("trace_id", String(32), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("producer", "sequence", name="pk_audit_events"),
)
Index("ix_audit_events_occurred", audit_events.c.occurred_at_us, audit_events.c.event_id)
Index("ix_audit_events_actor_id", audit_events.c.actor_id)
Index("ix_audit_events_subject_id", audit_events.c.subject_id)
Index("ix_audit_events_trace_id", audit_events.c.trace_id)

#: Events claiming a (producer, sequence) another event already holds. Kept, not dropped:
#: verification reports them as duplicate sequences (a forger's or a broken producer's).
audit_conflicts = Table(
    "audit_conflicts",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("producer", String(64), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

#: The ledger's own place in its audit chain as producer "audit" (auditors' queries are
#: events too, A1): one row, advanced under its lock by plumbing.auditchain_row.
audit_chain = Table(
    "audit_chain",
    metadata,
    Column("producer", String(40), primary_key=True),
    Column("sequence", BigInteger, nullable=False),
    Column("last_hash", LargeBinary, nullable=False),
)

#: The outbox (the audit producer's events, published like any producer's) and the
#: processed ids of group "audit".
event_tables = EventTables.add_to(metadata)
