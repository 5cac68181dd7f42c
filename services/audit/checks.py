"""What the ledger checks beyond one chain's links: producers and pinned keys, indexed
columns against signed bytes, and stored events against the transparency log.

These are the faults a chain cannot show by itself: a producer whose whole chain is gone, a
chain re-signed end to end with another producer's key, an edited index column, and a tail
cut off (the chain ends cleanly, but the signed log committed to more).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from plumbing.auditchain import Problem, event_hash
from plumbing.auth.jwk import key_id
from plumbing.tlog import leaf_hash
from services.audit.domain.producers import ProducerPins
from services.audit.transparency import TransparencyLog


class IndexAudit(Protocol):
    async def mismatches(self, producer: str) -> list[tuple[int, str, list[str]]]: ...


class LedgerChecks:
    """Findings for `AuditService.verify` and the gate on what queries may serve."""

    def __init__(
        self, pins: ProducerPins, index: IndexAudit, tlog: TransparencyLog, *, own: str = ""
    ) -> None:
        self._pins = pins
        self._index = index
        self.tlog = tlog
        #: The ledger's own producer: its chain is empty until the first query is recorded,
        #: and that is the VerifyChain being answered, so it is never MISSING here (the
        #: auditor's `verify`, which reads chains after its first call, still names it).
        self._own = own

    def producers(self, stored: Sequence[str]) -> list[str]:
        """Producers to report on: every one configured, every one that left events, and the
        ledger's own."""
        return sorted(set(stored) | set(self._pins.producers) | ({self._own} - {""}))

    def admissible(
        self,
        event: Any,
        keys: Mapping[str, Ed25519PublicKey],
        rotated: Mapping[str, Ed25519PublicKey] | None = None,
    ) -> bool:
        """Whether one event, alone, verified: its hash, and a signature by a pinned key or
        by a key its producer's chain rotated to (`rotated`, from `rotated_keys`)."""
        rotated = rotated or {}
        if not self._pins.allows(event.producer, event.key_id) and event.key_id not in rotated:
            return False
        public = rotated.get(event.key_id) or keys.get(event.key_id)
        if public is None or event_hash(event, bytes(event.prev_hash)) != bytes(event.hash):
            return False
        try:
            public.verify(bytes(event.signature), bytes(event.hash))
        except InvalidSignature:
            return False
        return True

    def rotated_keys(
        self, producer: str, rotations: Sequence[Any], keys: Mapping[str, Ed25519PublicKey]
    ) -> dict[str, Ed25519PublicKey]:
        """Keys `producer`'s KEY_ROTATED events (in sequence order) vouch for: each signed
        by a key pinned to the producer or vouched for by an earlier one. Enough to admit an
        event to queries; `verify_chain` checks the rotation's place in the chain strictly."""
        admitted: dict[str, Ed25519PublicKey] = {}
        for event in sorted(rotations, key=lambda e: e.sequence):
            if event.producer == producer and self.admissible(event, keys, admitted):
                with contextlib.suppress(ValueError):
                    new = Ed25519PublicKey.from_public_bytes(bytes(event.new_public_key))
                    admitted[key_id(new)] = new
        return admitted

    async def problems(
        self,
        producer: str,
        events: Sequence[Any],
        signers: Mapping[str, set[str]],
        rotated: Mapping[str, Ed25519PublicKey] | None = None,
        *,
        size: int | None = None,
    ) -> tuple[list[Problem], int]:
        """(problems, log size) of one producer; `signers` maps key id -> producers using it,
        `rotated` the keys its chain rotated to (ChainVerdict.rotated_keys).

        `size`: the log size from an `advance` made before `events` were read; a log advanced
        after the read could hold events committed since, and call the chain truncated.
        """
        found = self._producer_problems(producer, events)
        found += self._key_problems(producer, events, signers, rotated or {})
        found += [
            Problem(
                sequence,
                event_id,
                "INDEX_MISMATCH",
                f"event {sequence}: indexed {', '.join(columns)} disagree with the signed event",
            )
            for sequence, event_id, columns in await self._index.mismatches(producer)
        ]
        if size is None:
            size = await self.tlog.advance(producer)
        found += await self._log_problems(producer, events, size)
        return found, size

    def _producer_problems(self, producer: str, events: Sequence[Any]) -> list[Problem]:
        if not self._pins.configured:
            return []
        if producer not in self._pins.pins:
            return [
                Problem(0, "", "UNKNOWN_PRODUCER", f"{producer!r} is not a configured producer")
            ]
        if not events and producer != self._own:
            return [
                Problem(
                    0,
                    "",
                    "MISSING_PRODUCER",
                    f"configured producer {producer!r} has no events in the ledger",
                )
            ]
        return []

    def _key_problems(
        self,
        producer: str,
        events: Sequence[Any],
        signers: Mapping[str, set[str]],
        rotated: Mapping[str, Ed25519PublicKey],
    ) -> list[Problem]:
        found = []
        for event in sorted(events, key=lambda e: e.sequence):
            kid = str(event.key_id)
            others = sorted(signers.get(kid, set()) - {producer})
            pinned = self._pins.allows(producer, kid) or kid in rotated
            if self._pins.configured and not pinned:
                owner = self._pins.owner(kid)
                whose = f"pinned to {owner!r}" if owner else f"not pinned to {producer!r}"
                detail = f"event {event.sequence} is signed with key {kid!r}, {whose}"
            elif others:
                detail = f"event {event.sequence}'s key {kid!r} also signs {', '.join(others)}"
            else:
                continue
            found.append(Problem(int(event.sequence), event.event_id, "WRONG_PRODUCER_KEY", detail))
        return found

    async def _log_problems(self, producer: str, events: Sequence[Any], size: int) -> list[Problem]:
        by_sequence: dict[int, list[Any]] = defaultdict(list)
        for event in events:
            by_sequence[int(event.sequence)].append(event)
        found = []
        leaves = await self.tlog.leaf_hashes(producer)
        highest = max(by_sequence, default=0)
        for sequence in range(1, size + 1):
            candidates = by_sequence.get(sequence, [])
            if not candidates:
                continue  # a gap in the middle is reported as a gap; the tail below
            leaf = leaves[sequence - 1]
            if not any(
                leaf_hash(e.SerializeToString(deterministic=True)) == leaf for e in candidates
            ):
                found.append(
                    Problem(
                        sequence,
                        candidates[0].event_id,
                        "LOG_MISMATCH",
                        f"event {sequence} is not the event the signed log holds there",
                    )
                )
        committed = max(size, await self.tlog.newest_size(producer))
        if committed > highest:
            found.append(
                Problem(
                    highest + 1,
                    "",
                    "TRUNCATED",
                    f"the signed log holds {committed} events, the ledger only up to {highest}",
                )
            )
        return found
