"""Expected producers and their pinned keys: which producer may sign with which key.

Configured as JSON, `{"<producer>": ["<key>", ...], ...}`, where each key is either an Ed25519
public key PEM (SubjectPublicKeyInfo) or its key id (the RFC 7638 thumbprint, whose PEM the
trusted-keys directory holds). With pins, a producer named here but absent from the ledger is
MISSING, events of a producer not named are UNKNOWN_PRODUCER, and an event signed with a key
not pinned to its producer is WRONG_PRODUCER_KEY. Without pins (dev) every trusted key is good
for every producer, but one key seen under two producers is still WRONG_PRODUCER_KEY: a key
belongs to one producer, so a chain re-signed with another producer's key never passes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from plumbing.auth.jwk import key_id


class ProducerConfigError(ValueError):
    """The producers configuration cannot be read; the message says which part and why."""


@dataclass(frozen=True, slots=True)
class ProducerPins:
    """Producer name -> the key ids it may sign with; PEM keys given inline by key id."""

    pins: Mapping[str, frozenset[str]] = field(default_factory=dict)
    inline_keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return bool(self.pins)

    @property
    def producers(self) -> list[str]:
        return sorted(self.pins)

    def owner(self, kid: str) -> str | None:
        """The producer a key id is pinned to, if any."""
        for producer, kids in self.pins.items():
            if kid in kids:
                return producer
        return None

    def allows(self, producer: str, kid: str) -> bool:
        """Whether `producer` may sign with `kid` (always, when nothing is configured)."""
        return not self.pins or kid in self.pins.get(producer, frozenset())


def parse_producers(text: str, *, origin: str = "CONSILIUM_AUDIT_PRODUCERS") -> ProducerPins:
    """Reads the JSON configuration; raises ProducerConfigError naming `origin`."""
    if not text.strip():
        return ProducerPins()
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProducerConfigError(f"{origin}: not JSON ({exc.msg})") from None
    if not isinstance(document, dict):
        raise ProducerConfigError(f'{origin}: expected {{"<producer>": ["<key>", ...]}}')
    pins: dict[str, frozenset[str]] = {}
    inline: dict[str, Ed25519PublicKey] = {}
    for producer, keys in document.items():
        if not producer or not isinstance(keys, list) or not keys:
            raise ProducerConfigError(f"{origin}: {producer!r} needs a non-empty list of keys")
        kids = set()
        for entry in keys:
            kid, public = _key(entry, origin=f"{origin}: {producer}")
            if public is not None:
                inline[kid] = public
            kids.add(kid)
        pins[producer] = frozenset(kids)
    shared = _shared(pins)
    if shared:
        raise ProducerConfigError(f"{origin}: key {shared} is pinned to two producers")
    return ProducerPins(pins, inline)


def _key(entry: object, *, origin: str) -> tuple[str, Ed25519PublicKey | None]:
    if not isinstance(entry, str) or not entry.strip():
        raise ProducerConfigError(f"{origin}: a key is a PEM public key or a key id")
    if "-----BEGIN" not in entry:
        return entry.strip(), None
    try:
        public = load_pem_public_key(entry.encode())
    except ValueError:
        raise ProducerConfigError(f"{origin}: a PEM that is not a public key") from None
    if not isinstance(public, Ed25519PublicKey):
        raise ProducerConfigError(f"{origin}: audit keys are Ed25519")
    return key_id(public), public


def _shared(pins: Mapping[str, Iterable[str]]) -> str | None:
    seen: set[str] = set()
    for kids in pins.values():
        for kid in kids:
            if kid in seen:
                return kid
            seen.add(kid)
    return None
