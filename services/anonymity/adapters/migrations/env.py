"""Alembic environment of the anonymity service."""

from plumbing import migrations
from services.anonymity.adapters.tables import metadata

migrations.run(metadata)
