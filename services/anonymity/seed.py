"""Demo data for `make dev`: nothing to seed; aliases are made when demo posts are written.

Aliases belong to the people who post, so they are created by the content seed through
GetOrCreateAlias (as the posting physician), not invented here. Kept as a module so the
CLI treats every component alike.
"""

from __future__ import annotations

from services.anonymity.ports import AnonymityStore


async def seed_demo_aliases(store: AnonymityStore) -> int:
    """How many aliases were seeded: none, see the module docstring."""
    del store
    return 0
