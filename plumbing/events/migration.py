"""Alembic operations creating the outbox and processed-events tables in a service's database.

Migrations call these once; a later change to the tables needs a new migration of its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from plumbing.events.tables import OUTBOX, PROCESSED


def create_event_tables() -> None:
    op.create_table(
        OUTBOX,
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("traceparent", sa.String(100), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outbox_unsent", OUTBOX, ["sent_at", "position"])
    op.create_table(
        PROCESSED,
        sa.Column("consumer_group", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.BigInteger(), nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("consumer_group", "event_id", name="pk_processed_events"),
    )


def drop_event_tables() -> None:
    op.drop_table(PROCESSED)
    op.drop_index("ix_outbox_unsent", table_name=OUTBOX)
    op.drop_table(OUTBOX)
