"""Events: outbox and processed-event tables, person records and verified counts.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from plumbing.events.migration import create_event_tables, drop_event_tables

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_event_tables()
    op.create_table(
        "person_records",
        sa.Column("owner_index", sa.String(64), nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("name_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner_index", name="pk_person_records"),
    )
    op.create_table(
        "verified_counts",
        sa.Column("specialty_code", sa.String(20), nullable=False),
        sa.Column("verified", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("specialty_code", name="pk_verified_counts"),
    )


def downgrade() -> None:
    op.drop_table("verified_counts")
    op.drop_table("person_records")
    drop_event_tables()
