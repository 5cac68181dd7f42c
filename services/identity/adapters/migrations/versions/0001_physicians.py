"""Physicians: accounts, personal data, verification and roles.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "physicians",
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("full_name", sa.String(200), nullable=True),
        sa.Column("npi", sa.String(10), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("specialty_code", sa.String(10), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("verification", sa.String(16), nullable=False),
        sa.Column("suspended_from", sa.String(16), nullable=True),
        sa.Column("roles", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_physicians"),
        sa.UniqueConstraint("email", name="uq_physicians_email"),
        sa.UniqueConstraint("npi", name="uq_physicians_npi"),
    )
    op.create_index(
        "ix_physicians_specialty_verification", "physicians", ["specialty_code", "verification"]
    )


def downgrade() -> None:
    op.drop_index("ix_physicians_specialty_verification", table_name="physicians")
    op.drop_table("physicians")
