"""The anonymity database schema (SQLAlchemy Core), the one source for migrations and queries.

No column holds a user id, name or email in clear: owners appear as keyed blind indexes
(HMAC) or as AEAD ciphertexts (see services.anonymity.vault). No row groups one person's
aliases without keys: alias rows carry their owner only sealed, and no owner-keyed row is
written in an alias row's transaction (see tests/integration/anonymity, the linkage test).
The outbox holds events on their way out: alias ids for content, and identity-access
records for audit (staff actor ids, as in identity_access_records); the relay deletes sent
rows after an hour.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from plumbing.events.runtime import EventTables

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: One row per person: their data key, wrapped under a master key. Deleting it shreds them.
#: No timestamp: it is made from the person's first identity event, and a creation time
#: could be matched against alias creation times. Alias creation reads it, never writes or
#: locks it (a PostgreSQL row lock stamps xmax with the locking transaction's id).
user_keys = Table(
    "user_keys",
    metadata,
    Column("owner_index", String(64), primary_key=True),
    Column("kid", String(64), nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("suspended", Boolean, nullable=False, default=False),
)

aliases = Table(
    "aliases",
    metadata,
    Column("alias_id", String(40), primary_key=True),
    Column("visibility", String(16), nullable=False),
    Column("scope_id", String(40), nullable=True),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Owner columns are cleared on erasure; the alias stays so posts keep their author.
    Column("slot", String(64), nullable=True, unique=True),
    Column("owner_seal_kid", String(64), nullable=True),
    Column("owner_sealed", LargeBinary, nullable=True),
    Column("owner_ciphertext", LargeBinary, nullable=True),
    # The persona frozen when the alias was made (public, so in clear; NULL only for
    # aliases older than freezing, until freeze_existing_personas has run) and, for
    # IDENTIFIED, the display name under the owner's data key (erasure shreds it).
    Column("persona_handle", String(120), nullable=True),
    Column("persona_verified", Boolean, nullable=True),
    Column("persona_specialty_code", String(20), nullable=True),
    Column("persona_specialty_name", String(200), nullable=True),
    Column("name_ciphertext", LargeBinary, nullable=True),
)

thread_scopes = Table(
    "thread_scopes",
    metadata,
    Column("scope_id", String(40), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

identity_access_records = Table(
    "identity_access_records",
    metadata,
    Column("record_id", String(40), primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor_roles", String(100), nullable=False),
    Column("subject", String(80), nullable=False),
    Column("action", String(32), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("decision", String(16), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("trace_id", String(32), nullable=False),
    Column("span_id", String(16), nullable=False),
)
Index("ix_identity_access_records_subject", identity_access_records.c.subject)
Index("ix_identity_access_records_occurred_at", identity_access_records.c.occurred_at)

#: What personas need about a person, from identity's events (see domain.people): sealed
#: under the master key; the name under the person's data key (erasure shreds it).
#: `updated_at` is kept to the day, so it cannot be matched against alias creation times.
person_records = Table(
    "person_records",
    metadata,
    Column("owner_index", String(64), primary_key=True),
    Column("kid", String(64), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("name_ciphertext", LargeBinary, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: VERIFIED people per specialty, kept in step with person_records by the same
#: transactions: counts only, so k-anonymity never decrypts every record.
verified_counts = Table(
    "verified_counts",
    metadata,
    Column("specialty_code", String(20), primary_key=True),
    Column("verified", Integer, nullable=False),
)

#: A person's index (their own posts and comments, their notifications) and how far they read
#: it: one row per entry, keyed and sealed under keys derived from the person's data key (see
#: services.anonymity.domain.inbox). No owner column, no time: rows of one person cannot be
#: grouped without the key, and decoys are written where no entry is due.
index_entries = Table(
    "index_entries",
    metadata,
    Column("row_key", String(64), primary_key=True),
    Column("sealed", LargeBinary, nullable=False),
)

#: Each producer's place in its audit chain (plumbing.auditchain): the last sequence
#: handed out and that event's hash. Every audit event locks and advances its row in the
#: transaction that queues the event, so sequences are gap-free and unique.
audit_chain = Table(
    "audit_chain",
    metadata,
    Column("producer", String(40), primary_key=True),
    Column("sequence", BigInteger, nullable=False),
    Column("last_hash", LargeBinary, nullable=False),
    # The key signing the chain now; a replica holding another key refuses to sign.
    Column("key_id", String(64), nullable=True),
)

#: The transactional outbox and the consumer's processed-event ids (plumbing.events).
event_tables = EventTables.add_to(metadata)
