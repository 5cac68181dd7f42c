"""Alias mapping: data keys, aliases, alias directories, thread scopes, access records.

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
        "user_keys",
        sa.Column("owner_index", sa.String(64), nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner_index", name="pk_user_keys"),
    )
    op.create_table(
        "aliases",
        sa.Column("alias_id", sa.String(40), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("scope_id", sa.String(40), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot", sa.String(64), nullable=True),
        sa.Column("owner_seal_kid", sa.String(64), nullable=True),
        sa.Column("owner_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("owner_ciphertext", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("alias_id", name="pk_aliases"),
        sa.UniqueConstraint("slot", name="uq_aliases_slot"),
    )
    op.create_table(
        "alias_directory",
        sa.Column("entry_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_index", sa.String(64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_alias_directory"),
    )
    op.create_index("ix_alias_directory_owner_index", "alias_directory", ["owner_index"])
    op.create_table(
        "thread_scopes",
        sa.Column("scope_id", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope_id", name="pk_thread_scopes"),
    )
    op.create_table(
        "identity_access_records",
        sa.Column("record_id", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("actor_roles", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name="pk_identity_access_records"),
    )
    op.create_index("ix_identity_access_records_subject", "identity_access_records", ["subject"])
    op.create_index(
        "ix_identity_access_records_occurred_at", "identity_access_records", ["occurred_at"]
    )


def downgrade() -> None:
    op.drop_table("identity_access_records")
    op.drop_table("thread_scopes")
    op.drop_index("ix_alias_directory_owner_index", table_name="alias_directory")
    op.drop_table("alias_directory")
    op.drop_table("aliases")
    op.drop_table("user_keys")
