"""The transparency log's tables: each producer's Merkle leaves and the checkpoints signed.

Leaves are kept so a restart rebuilds every tree from 32-byte hashes instead of re-reading and
re-verifying every event; checkpoints are kept so the ledger answers with one it signed
before and so `VerifyChain` can hold stored events against what the ledger once committed to.
Both are append-only, like the events themselves.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from services.audit.adapters.tables import metadata

#: Leaf `leaf_index` (sequence - 1) of a producer's log: SHA-256(0x00 || the event's stored
#: bytes), and the event's chain hash, which the next event's prev_hash must name.
tlog_leaves = Table(
    "audit_tlog_leaves",
    metadata,
    Column("producer", String(64), nullable=False),
    Column("leaf_index", BigInteger, nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("leaf_hash", LargeBinary, nullable=False),
    Column("chain_hash", LargeBinary, nullable=False),
    PrimaryKeyConstraint("producer", "leaf_index", name="pk_audit_tlog_leaves"),
)

#: Every checkpoint the ledger signed: the C2SP signed note and what it says.
tlog_checkpoints = Table(
    "audit_tlog_checkpoints",
    metadata,
    Column("producer", String(64), nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("producer", "tree_size", name="pk_audit_tlog_checkpoints"),
)
