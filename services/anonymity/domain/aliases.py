"""Aliases: visibilities, states, opaque ids and the stored (encrypted) shape of one alias.

Alias and scope ids are 128 bits from the OS CSPRNG behind a short type prefix, so they
say nothing about their owner, their thread or each other. Thread scopes are created
before the post they belong to, so the original poster's ANONYMOUS alias exists (and is
reused by their comments) from the first moment of the thread.
"""

from __future__ import annotations

import base64
import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

ALIAS_PREFIX = "als_"
SCOPE_PREFIX = "thr_"
_ID_BYTES = 16  # 128 bits of randomness
_BODY = re.compile(r"^[a-z2-7]{26}$")


class Visibility(enum.Enum):
    """How an author appears on a post: by name, by a stable handle, or per thread."""

    IDENTIFIED = "IDENTIFIED"
    PSEUDONYMOUS = "PSEUDONYMOUS"
    ANONYMOUS = "ANONYMOUS"


class AliasState(enum.Enum):
    """Whether an alias is shown: SUSPENDED aliases are hidden by a moderator.

    ORPHANED is what erasure wrote before personas were frozen; erasure now tombstones the
    owner columns and keeps the state, so an erased person's aliases do not change state
    together (services.anonymity.erasure).
    """

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    ORPHANED = "ORPHANED"


class AliasAction(enum.Enum):
    """What a moderator may do to an alias, and to the person behind it, unrevealed.

    SUSPEND hides the alias and suspends the account; REINSTATE shows the alias again and
    reinstates the account. HIDE and UNHIDE act on the one alias only, never the account.
    """

    SUSPEND = "SUSPEND"
    REINSTATE = "REINSTATE"
    HIDE = "HIDE"
    UNHIDE = "UNHIDE"


def _random_id(prefix: str) -> str:
    body = base64.b32encode(secrets.token_bytes(_ID_BYTES)).decode().rstrip("=").lower()
    return prefix + body


def new_alias_id() -> str:
    """`als_` + 26 base32 characters (128 random bits)."""
    return _random_id(ALIAS_PREFIX)


def new_scope_id() -> str:
    """`thr_` + 26 base32 characters (128 random bits)."""
    return _random_id(SCOPE_PREFIX)


def is_alias_id(value: str) -> bool:
    return value.startswith(ALIAS_PREFIX) and bool(_BODY.match(value[len(ALIAS_PREFIX) :]))


def is_scope_id(value: str) -> bool:
    return value.startswith(SCOPE_PREFIX) and bool(_BODY.match(value[len(SCOPE_PREFIX) :]))


@dataclass(frozen=True, slots=True)
class FrozenPersona:
    """What an alias discloses, fixed when the alias is made (P2, P5); public, stored plainly.

    The IDENTIFIED alias's display name is not here: it is stored sealed under the owner's
    data key (`StoredAlias.name_ciphertext`), so erasure shreds it and nothing else.
    """

    handle: str
    verified_physician: bool
    specialty_code: str | None
    specialty_name: str | None


@dataclass(frozen=True, slots=True)
class StoredAlias:
    """One row of the alias table, as the store hands it over.

    The owner appears only encrypted: `owner_sealed` is the owner's blind index sealed
    under the master key (random nonce, so two rows of one owner never compare equal), and
    `owner_ciphertext` is the user id under the owner's own data key. `slot` is the keyed
    lookup value for (owner, visibility, scope). Erasure overwrites all three with a
    tombstone (random values that open to nobody); rows erased before that hold None.
    `persona` is None only for aliases made before personas were frozen, until
    `freeze_existing_personas` has run; `state` is the alias's own moderation state.
    """

    alias_id: str
    visibility: Visibility
    scope_id: str | None
    state: AliasState
    created_at: datetime
    slot: str | None
    owner_seal_kid: str | None
    owner_sealed: bytes | None
    owner_ciphertext: bytes | None
    persona: FrozenPersona | None = None
    name_ciphertext: bytes | None = None

    @property
    def orphaned(self) -> bool:
        return self.state is AliasState.ORPHANED or self.owner_sealed is None


@dataclass(frozen=True, slots=True)
class UserKey:
    """A person's wrapped data key, found by their blind index; deleting it shreds them."""

    owner_index: str
    kid: str
    wrapped_key: bytes
    suspended: bool
