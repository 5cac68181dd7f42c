"""What content does when anonymity reports on an alias: hide, show again, or mark orphaned.

These run inside a transaction the caller owns (the event consumer's, which also records
the event as processed), so they take a repository rather than opening a unit of work.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime

from plumbing.errors import InvalidArgument
from services.content.domain import ids
from services.content.ports import ContentRepository

log = logging.getLogger("consilium.content")


class AliasChange(enum.Enum):
    #: The alias may no longer act: everything it wrote is hidden (as SetAliasHidden does).
    SUSPENDED = "suspended"
    #: It may act again: what it wrote shows again.
    REINSTATED = "reinstated"
    #: Its owner was erased: what it wrote stays visible (the gateway shows the persona as a
    #: former member, from anonymity); content only flags the alias so that it cannot write.
    ORPHANED = "orphaned"


async def apply_alias_change(
    repo: ContentRepository, alias_id: str, change: AliasChange, now: datetime
) -> None:
    """Applies `change`; applying it again changes nothing. INVALID_ARGUMENT for a bad id."""
    violation = ids.opaque_id_violation(alias_id, "alias_id")
    if violation is not None:
        raise InvalidArgument([violation])
    if change is AliasChange.ORPHANED:
        await repo.mark_orphaned(alias_id, now)
    else:
        await repo.set_aliases_hidden([alias_id], change is AliasChange.SUSPENDED, now)
    log.info("alias change applied", extra={"fields": {"change": change.value}})
