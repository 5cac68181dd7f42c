"""What the audit use cases need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit.domain.query import Cursor, EventFilter


@dataclass(frozen=True, slots=True)
class Page:
    """Events oldest first (as the ledger's adapter represents them), and where the next
    page starts (None on the last page)."""

    events: Sequence[Any]
    next: Cursor | None


class Ledger(Protocol):
    """The stored events: read-only here, appended by the consumer alone."""

    async def query(self, where: EventFilter, *, after: Cursor | None, limit: int) -> Page: ...

    async def producers(self) -> list[str]:
        """Every producer with at least one stored event, sorted."""

    async def chain(self, producer: str) -> Sequence[Any]:
        """All of the producer's events as stored (including ones that claimed a sequence
        another event held), in the form plumbing.auditchain.verify_chain reads."""

    async def rotations(self, producer: str) -> Sequence[Any]:
        """The producer's stored KEY_ROTATED events (found by the indexed action; each is
        judged on its signed bytes, so an edited index can hide a rotation, never forge one)."""


class TrustedKeys(Protocol):
    """The producers' public keys, by key id."""

    async def keys(self, key_ids: Iterable[str]) -> Mapping[str, Ed25519PublicKey]:
        """Every trusted key, re-read first when one of `key_ids` is not known yet."""
