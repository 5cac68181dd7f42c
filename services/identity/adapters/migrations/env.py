"""Alembic environment of the identity service."""

from plumbing import migrations
from services.identity.adapters.tables import metadata

migrations.run(metadata)
