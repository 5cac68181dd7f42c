"""Verified access tokens (as CheckAliasOwners asks): verified once, never past expiry, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plumbing.auth import AccessClaims, Role, VerificationStatus
from plumbing.auth.verified import VerifiedTokens
from plumbing.errors import Unauthenticated

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def _claims(user_id: str, minutes: int) -> AccessClaims:
    return AccessClaims(
        user_id=user_id,
        roles=frozenset({Role.MEMBER}),
        verification=VerificationStatus.VERIFIED,
        issued_at=NOW - timedelta(minutes=1),
        expires_at=NOW + timedelta(minutes=minutes),
        key_id="k",
    )


class Verifier:
    def __init__(self) -> None:
        self.verified: list[str] = []

    async def __call__(self, token: str) -> AccessClaims | None:
        self.verified.append(token)
        if token.startswith("forged"):
            raise Unauthenticated("bad signature")
        return _claims(token.partition("-")[0], minutes=int(token.rpartition("-")[2]))


async def test_a_token_is_verified_once_and_a_forged_one_is_nobody() -> None:
    verifier = Verifier()
    tokens = VerifiedTokens(verifier, clock=lambda: NOW)
    first = await tokens.claims("usr_a-10")
    again = await tokens.claims("usr_a-10")
    assert first is not None and first.user_id == "usr_a" and again == first
    assert await tokens.claims("forged-10") is None
    assert await tokens.claims("forged-10") is None
    assert verifier.verified == ["usr_a-10", "forged-10", "forged-10"]  # only failures again


async def test_a_remembered_token_stops_counting_when_it_expires() -> None:
    clock = [NOW]
    tokens = VerifiedTokens(Verifier(), clock=lambda: clock[0])
    assert await tokens.claims("usr_a-5") is not None
    clock[0] = NOW + timedelta(minutes=6)
    assert await tokens.claims("usr_a-5") is None


async def test_the_memory_is_bounded() -> None:
    verifier = Verifier()
    tokens = VerifiedTokens(verifier, capacity=2, clock=lambda: NOW)
    for user in ("usr_a", "usr_b", "usr_c"):
        await tokens.claims(f"{user}-10")
    await tokens.claims("usr_a-10")  # forgotten (the oldest): verified again
    assert verifier.verified.count("usr_a-10") == 2
