"""The producers' Ed25519 public keys, one PEM file per key: `<dir>/<key_id>.pem`.

Producers place their public key there (a mounted secret in production). The directory is
read on first use and again whenever verification meets a key id it does not know yet, so
a producer's new key is picked up without a restart. A file whose name is not the key's
thumbprint is skipped: the name must not be able to vouch for another key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from plumbing.auth.jwk import key_id

log = logging.getLogger("consilium.audit")


def load_keys(directory: Path) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    if not directory.is_dir():
        return keys
    for path in sorted(directory.glob("*.pem")):
        try:
            public = load_pem_public_key(path.read_bytes())
        except (OSError, ValueError):
            log.warning("audit: %s is not a readable PEM public key; skipped", path.name)
            continue
        if not isinstance(public, Ed25519PublicKey):
            log.warning("audit: %s is not an Ed25519 key; skipped", path.name)
            continue
        if key_id(public) != path.stem:
            log.warning("audit: %s is not named after its key id; skipped", path.name)
            continue
        keys[path.stem] = public
    return keys


class TrustedKeyDirectory:
    """Implements `TrustedKeys` over a directory of PEM files."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._keys: dict[str, Ed25519PublicKey] | None = None

    async def keys(self, key_ids: Iterable[str]) -> Mapping[str, Ed25519PublicKey]:
        if self._keys is None or any(k not in self._keys for k in key_ids):
            self._keys = await asyncio.to_thread(load_keys, self._directory)
        return dict(self._keys)


class PinnedKeyDirectory:
    """Implements `TrustedKeys`: the directory's keys plus PEM keys pinned in configuration."""

    def __init__(self, directory: TrustedKeyDirectory, inline: Mapping[str, Ed25519PublicKey]):
        self._directory = directory
        self._inline = dict(inline)

    async def keys(self, key_ids: Iterable[str]) -> Mapping[str, Ed25519PublicKey]:
        wanted = [k for k in key_ids if k not in self._inline]
        return {**await self._directory.keys(wanted), **self._inline}
