"""Alembic environment of the audit service."""

from plumbing import migrations
from services.audit.adapters import tlog_tables  # noqa: F401 - registers the log's tables
from services.audit.adapters.tables import metadata

migrations.run(metadata)
