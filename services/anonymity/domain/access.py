"""Identity-access records: who tried to reach whose identity, why, and what was decided (A1).

A record is written (and committed) before any identity leaves the service; refusals are
records too. Subjects are alias ids, or a person's blind index for person-level reads, so
the table never holds a subject's user id in clear. Actor ids are stored as given: actors
are staff acting in their official capacity, and auditors must see who they are.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime

from plumbing.auth import AccessClaims, Role

RECORD_PREFIX = "iar_"
#: Roles allowed to reveal an alias or act on it.
STAFF_ROLES = (Role.MODERATOR, Role.ADMIN)


class Decision(enum.Enum):
    GRANTED = "GRANTED"
    DENIED = "DENIED"


class AccessAction(enum.Enum):
    REVEAL_ALIAS = "REVEAL_ALIAS"
    SUSPEND_ALIAS_OWNER = "SUSPEND_ALIAS_OWNER"
    REINSTATE_ALIAS_OWNER = "REINSTATE_ALIAS_OWNER"
    HIDE_ALIAS = "HIDE_ALIAS"
    UNHIDE_ALIAS = "UNHIDE_ALIAS"
    LIST_ALIASES = "LIST_ALIASES"
    MODERATE_CONTENT = "MODERATE_CONTENT"


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One identity-access attempt, granted or denied, with the trace it belongs to."""

    record_id: str
    occurred_at: datetime
    actor_id: str
    actor_roles: str
    subject: str
    action: AccessAction
    purpose: str
    decision: Decision
    reason: str
    trace_id: str
    span_id: str


def new_record_id() -> str:
    return RECORD_PREFIX + secrets.token_hex(16)


def actor_fields(caller: AccessClaims | None) -> tuple[str, str]:
    """(actor id, comma-separated roles) of a caller; unauthenticated attempts count too."""
    if caller is None:
        return "unauthenticated", ""
    return caller.user_id, ",".join(sorted(r.value for r in caller.roles))


def is_staff(caller: AccessClaims | None) -> bool:
    return caller is not None and caller.has_role(*STAFF_ROLES)
