"""A person's sealed index of their items and notifications (index_entries).

Revision ID: 0005
Revises: 0004

One row per entry under a key derived from the person's data key; no owner column and no
time, so a reader of the database cannot group one person's rows (see
services.anonymity.domain.inbox).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "index_entries",
        sa.Column("row_key", sa.String(64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("row_key", name="pk_index_entries"),
    )


def downgrade() -> None:
    op.drop_table("index_entries")
