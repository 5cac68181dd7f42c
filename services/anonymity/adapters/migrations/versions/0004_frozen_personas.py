"""Frozen personas on alias rows; the alias directory and key creation times dropped.

Revision ID: 0004
Revises: 0003

The directory grouped a person's aliases under one blind index, in alias creation order,
and user_keys.created_at could be matched against alias creation times (finding 5). Every
alias's owner seal already names its owner to the key holder, so the directory goes.
Existing aliases get their persona frozen by `freeze_existing_personas` at service start
(a migration holds no keys, so it cannot decrypt owners). Person record times are cut to
the day.
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("aliases") as batch:
        batch.add_column(sa.Column("persona_handle", sa.String(120), nullable=True))
        batch.add_column(sa.Column("persona_verified", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("persona_specialty_code", sa.String(20), nullable=True))
        batch.add_column(sa.Column("persona_specialty_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("name_ciphertext", sa.LargeBinary(), nullable=True))
    op.drop_index("ix_alias_directory_owner_index", table_name="alias_directory")
    op.drop_table("alias_directory")
    with op.batch_alter_table("user_keys") as batch:
        batch.drop_column("created_at")
    records = sa.table(
        "person_records",
        sa.column("owner_index", sa.String()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    for owner_index, updated_at in bind.execute(
        sa.select(records.c.owner_index, records.c.updated_at)
    ).all():
        day = _day(updated_at)
        bind.execute(
            records.update().where(records.c.owner_index == owner_index).values(updated_at=day)
        )


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def downgrade() -> None:
    with op.batch_alter_table("user_keys") as batch:
        batch.add_column(
            sa.Column(
                "created_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
    op.create_table(
        "alias_directory",
        sa.Column("entry_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_index", sa.String(64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_alias_directory"),
    )
    op.create_index("ix_alias_directory_owner_index", "alias_directory", ["owner_index"])
    with op.batch_alter_table("aliases") as batch:
        batch.drop_column("name_ciphertext")
        batch.drop_column("persona_specialty_name")
        batch.drop_column("persona_specialty_code")
        batch.drop_column("persona_verified")
        batch.drop_column("persona_handle")
