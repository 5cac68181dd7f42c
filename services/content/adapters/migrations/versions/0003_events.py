"""The event outbox and processed-events tables, and the orphaned-alias flag.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from plumbing.events.migration import create_event_tables, drop_event_tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_event_tables()
    op.create_table(
        "orphaned_aliases",
        sa.Column("alias_id", sa.String(64), primary_key=True),
        sa.Column("orphaned_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("orphaned_aliases")
    drop_event_tables()
