"""The transparency log: Merkle leaves per producer and the checkpoints signed.

Revision ID: 0002_tlog
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_tlog"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_tlog_leaves",
        sa.Column("producer", sa.String(64), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("chain_hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("producer", "leaf_index", name="pk_audit_tlog_leaves"),
    )
    op.create_table(
        "audit_tlog_checkpoints",
        sa.Column("producer", sa.String(64), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("producer", "tree_size", name="pk_audit_tlog_checkpoints"),
    )


def downgrade() -> None:
    op.drop_table("audit_tlog_checkpoints")
    op.drop_table("audit_tlog_leaves")
