"""Reports, the moderation queue, items hidden one by one and the moderation log.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_items",
        sa.Column("item_id", ID, primary_key=True),
        sa.Column("post_id", ID, sa.ForeignKey("posts.post_id"), nullable=False),
        sa.Column("comment_id", ID, sa.ForeignKey("comments.comment_id"), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("first_reported_at", WHEN, nullable=False),
        sa.Column("last_reported_at", WHEN, nullable=False),
        sa.Column("resolution", sa.String(16), nullable=True),
    )
    op.create_index(
        "ix_report_items_queue", "report_items", ["status", "last_reported_at", "item_id"]
    )
    op.create_table(
        "reports",
        sa.Column("item_id", ID, sa.ForeignKey("report_items.item_id"), nullable=False),
        sa.Column("reporter_alias_id", ID, nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("reported_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("item_id", "reporter_alias_id", name="pk_reports"),
    )
    op.create_table(
        "hidden_items",
        sa.Column("item_id", ID, primary_key=True),
        sa.Column("hidden_at", WHEN, nullable=False),
    )
    op.create_table(
        "moderation_log",
        sa.Column("action_id", ID, primary_key=True),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("staff_role", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("acted_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("moderation_log")
    op.drop_table("hidden_items")
    op.drop_table("reports")
    op.drop_index("ix_report_items_queue", table_name="report_items")
    op.drop_table("report_items")
