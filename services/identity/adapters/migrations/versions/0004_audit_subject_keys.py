"""Audit subject keys: one sealing key per person for the person links in audit events.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_subject_keys",
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("sealing_key", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_audit_subject_keys"),
    )


def downgrade() -> None:
    op.drop_table("audit_subject_keys")
