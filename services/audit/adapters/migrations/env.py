"""Alembic environment of the audit service."""

from plumbing import migrations
from services.audit.adapters.tables import metadata

migrations.run(metadata)
