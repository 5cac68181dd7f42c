"""Alembic environment of the content service."""

from plumbing import migrations
from services.content.adapters.tables import metadata

migrations.run(metadata)
