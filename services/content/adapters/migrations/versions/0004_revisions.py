"""When authors edited or deleted their posts and comments.

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

_TABLES = ("posts", "comments")


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it): a batch copy of `posts` would drop its search triggers.
    for table in _TABLES:
        op.add_column(table, sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
        op.add_column(table, sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("deleted_at")
            batch.drop_column("edited_at")
