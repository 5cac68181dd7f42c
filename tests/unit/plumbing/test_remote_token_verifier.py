"""Offline token checks with identity's JWKS: fetched lazily, refreshed on an unknown kid."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from plumbing.auth import Role, VerificationStatus
from plumbing.auth.remote import RemoteTokenVerifier
from plumbing.errors import Unauthenticated
from services.identity.tokens import KeyRing, TokenIssuer

USER = "usr_abcdefghijklmnopqrstuvwxyz"


class Identity:
    """Stands in for identity's GetPublicKeys: serves the current ring's JWKS."""

    def __init__(self) -> None:
        self.ring = KeyRing(Ed25519PrivateKey.generate())
        self.fetches = 0

    async def jwks(self) -> dict[str, Any]:
        self.fetches += 1
        return self.ring.jwks()

    def token(self) -> str:
        issued = TokenIssuer(self.ring).issue(USER, {Role.MEMBER}, VerificationStatus.VERIFIED)
        return issued.token


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_no_token_is_no_caller_and_no_fetch() -> None:
    identity = Identity()
    auth = RemoteTokenVerifier(identity.jwks)
    assert await auth.claims(None) is None
    assert identity.fetches == 0


async def test_keys_are_fetched_once_then_reused() -> None:
    identity = Identity()
    auth = RemoteTokenVerifier(identity.jwks)
    for _ in range(3):
        claims = await auth.claims(identity.token())
        assert claims is not None and claims.user_id == USER
    assert identity.fetches == 1


async def test_rotated_signing_key_triggers_a_refresh_at_most_once_per_interval() -> None:
    identity, clock = Identity(), Clock()
    auth = RemoteTokenVerifier(identity.jwks, refresh_interval=30, clock=clock)
    await auth.claims(identity.token())
    old_ring = identity.ring
    identity.ring = KeyRing(Ed25519PrivateKey.generate())
    with pytest.raises(Unauthenticated):
        await auth.claims(identity.token())  # within the interval: no refetch, unknown kid
    assert identity.fetches == 1
    clock.now = 31
    claims = await auth.claims(identity.token())
    assert claims is not None and identity.fetches == 2
    assert old_ring is not identity.ring


async def test_forged_token_is_refused() -> None:
    identity = Identity()
    auth = RemoteTokenVerifier(identity.jwks)
    head, payload, signature = identity.token().split(".")
    with pytest.raises(Unauthenticated):
        await auth.claims(f"{head}.{payload}.{signature[::-1]}")
