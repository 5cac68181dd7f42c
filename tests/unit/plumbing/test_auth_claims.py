"""Access-token claims: construction, JWT payload mapping and refusal of malformed claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plumbing.auth.claims import (
    AUDIENCE,
    DEFAULT_TTL,
    ISSUER,
    AccessClaims,
    claims_from_payload,
    new_claims,
)
from plumbing.errors import Unauthenticated
from services.identity.domain.physician import Role, VerificationStatus

NOW = datetime(2025, 3, 1, 9, 30, 15, 987654, tzinfo=UTC)
USER = "usr_abcdefghijklmnopqrstuvwxyz"


def claims(**changes: Any) -> AccessClaims:
    arguments: dict[str, Any] = {
        "user_id": USER,
        "roles": [Role.MEMBER, Role.MODERATOR],
        "verification": VerificationStatus.VERIFIED,
        "now": NOW,
        "ttl": DEFAULT_TTL,
        "key_id": "kid-1",
    }
    return new_claims(**{**arguments, **changes})


def test_new_claims_truncate_to_whole_seconds_and_expire_after_the_ttl() -> None:
    made = claims()
    assert made.issued_at == datetime(2025, 3, 1, 9, 30, 15, tzinfo=UTC)
    assert made.expires_at == made.issued_at + timedelta(minutes=15)
    assert made.roles == frozenset({Role.MEMBER, Role.MODERATOR})
    assert timedelta(minutes=15) == DEFAULT_TTL


def test_the_payload_carries_exactly_the_documented_claims() -> None:
    payload = claims().to_payload()
    assert payload == {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": USER,
        "roles": ["MEMBER", "MODERATOR"],
        "ver": "VERIFIED",
        "iat": int(datetime(2025, 3, 1, 9, 30, 15, tzinfo=UTC).timestamp()),
        "exp": int(datetime(2025, 3, 1, 9, 45, 15, tzinfo=UTC).timestamp()),
    }
    assert (ISSUER, AUDIENCE) == ("consilium-identity", "consilium")


def test_claims_survive_a_round_trip_through_the_payload() -> None:
    made = claims()
    assert claims_from_payload(made.to_payload(), key_id="kid-1") == made


def test_has_role() -> None:
    made = claims()
    assert made.has_role(Role.MODERATOR)
    assert made.has_role(Role.ADMIN, Role.MEMBER)
    assert not made.has_role(Role.ADMIN, Role.AUDITOR)


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(milliseconds=999), timedelta(seconds=-5)])
def test_a_lifetime_under_a_second_is_refused(ttl: timedelta) -> None:
    with pytest.raises(ValueError, match="at least one second"):
        claims(ttl=ttl)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        claims(now=datetime(2025, 3, 1, 9, 30))


def test_a_subject_is_required() -> None:
    with pytest.raises(ValueError, match="subject"):
        claims(user_id="")


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": ""},
        {"sub": 42},
        {"sub": None},
        {"roles": "MEMBER"},
        {"roles": ["MEMBER", "SUPERUSER"]},
        {"roles": None},
        {"ver": "APPROVED"},
        {"ver": None},
        {"iat": "1700000000"},
        {"exp": 1.5e9},
        {"exp": True},
        {"exp": 10**20},
    ],
    ids=repr,
)
def test_malformed_claims_are_refused(changes: dict[str, Any]) -> None:
    payload = {**claims().to_payload(), **changes}
    with pytest.raises(Unauthenticated, match="token claims invalid; sign in again"):
        claims_from_payload(payload, key_id="kid-1")


def test_missing_claims_are_refused() -> None:
    for name in ("sub", "roles", "ver", "iat", "exp"):
        payload = claims().to_payload()
        del payload[name]
        with pytest.raises(Unauthenticated):
            claims_from_payload(payload, key_id="kid-1")
