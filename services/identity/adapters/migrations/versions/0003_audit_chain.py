"""Audit chain: identity's last audit sequence and hash, started at the genesis.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: plumbing.auditchain.GENESIS, spelled out: migrations stay as they were written.
GENESIS = bytes(32)


def upgrade() -> None:
    chain = op.create_table(
        "audit_chain",
        sa.Column("producer", sa.String(40), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("producer", name="pk_audit_chain"),
    )
    # The row exists before the first event, so every writer only ever updates it: an
    # UPDATE takes the row lock, where two first inserts could race.
    op.bulk_insert(chain, [{"producer": "identity", "sequence": 0, "last_hash": GENESIS}])


def downgrade() -> None:
    op.drop_table("audit_chain")
