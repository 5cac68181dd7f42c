"""Community follows: which communities each person follows, by user id.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "community_follows",
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("community_id", sa.String(64), nullable=False),
        sa.Column("followed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "community_id", name="pk_community_follows"),
    )


def downgrade() -> None:
    op.drop_table("community_follows")
