"""The ledger as a producer: its own audit chain row (auditors' queries are audit events).

Revision ID: 0003_audit_chain
Revises: 0002_tlog
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_audit_chain"
down_revision: str | None = "0002_tlog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = bytes(32)


def upgrade() -> None:
    chain = op.create_table(
        "audit_chain",
        sa.Column("producer", sa.String(40), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("producer", name="pk_audit_chain"),
    )
    # Created here, never on first use: the UPDATE that advances it takes the row lock,
    # where two first inserts could race.
    op.bulk_insert(chain, [{"producer": "audit", "sequence": 0, "last_hash": GENESIS}])


def downgrade() -> None:
    op.drop_table("audit_chain")
