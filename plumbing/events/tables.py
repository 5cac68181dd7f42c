"""The outbox and processed-events tables every service adds to its own database."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

OUTBOX = "outbox"
PROCESSED = "processed_events"


def outbox_table(metadata: MetaData) -> Table:
    """Events written in the same transaction as the state change; the relay sends them."""
    return Table(
        OUTBOX,
        metadata,
        # Integer primary key autoincrements on SQLite and PostgreSQL alike; BigInteger
        # would not on SQLite. The relay sends in this order.
        Column("position", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("event_key", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("source", String(200), nullable=False),
        Column("data", LargeBinary, nullable=False),
        Column("traceparent", String(100), nullable=True),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        Index("ix_outbox_unsent", "sent_at", "position"),
    )


def processed_table(metadata: MetaData) -> Table:
    """Event ids a consumer group has applied: redelivery of one changes nothing."""
    return Table(
        PROCESSED,
        metadata,
        Column("consumer_group", String(100), nullable=False),
        Column("event_id", String(64), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        Column("attempts", BigInteger, nullable=False, default=1),
        PrimaryKeyConstraint("consumer_group", "event_id", name="pk_processed_events"),
    )
