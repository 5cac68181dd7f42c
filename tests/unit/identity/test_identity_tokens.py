"""Access tokens: issue and verify, expiry, wrong, forged and tampered tokens, rotation, JWKS."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from plumbing.errors import ErrorCode, Unauthenticated
from services.identity.domain.physician import Role, VerificationStatus
from services.identity.tokens import (
    DEFAULT_LEEWAY,
    KeyRing,
    TokenIssuer,
    TokenVerifier,
    key_id,
    public_jwk,
)

USER = "usr_abcdefghijklmnopqrstuvwxyz"
ROLES = frozenset({Role.MEMBER, Role.MODERATOR})
START = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


class FakeClock:
    """An injectable clock the test moves by hand: no sleeping."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing(Ed25519PrivateKey.generate())


def issue(ring: KeyRing, clock: FakeClock, **kwargs: Any) -> str:
    issuer = TokenIssuer(ring, clock=clock, **kwargs)
    return issuer.issue(USER, ROLES, VerificationStatus.VERIFIED).token


def verifier(ring: KeyRing, clock: FakeClock) -> TokenVerifier:
    return TokenVerifier.from_jwks(ring.jwks(), clock=clock)


def b64json(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return b64json(header), b64json(payload)


def expect_refusal(check: TokenVerifier, token: str, message: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        check.verify(token)
    assert caught.value.code is ErrorCode.UNAUTHENTICATED
    assert caught.value.message == message


# --- issue and verify -----------------------------------------------------------------


def test_an_issued_token_verifies_to_its_claims(ring: KeyRing, clock: FakeClock) -> None:
    issued = TokenIssuer(ring, clock=clock).issue(USER, ROLES, VerificationStatus.VERIFIED)
    claims = verifier(ring, clock).verify(issued.token)
    assert claims == issued.claims
    assert claims.user_id == USER
    assert claims.roles == ROLES
    assert claims.verification is VerificationStatus.VERIFIED
    assert claims.issued_at == START
    assert claims.expires_at == START + timedelta(minutes=15)
    assert claims.key_id == ring.signing_kid


def test_the_token_is_an_eddsa_jwt_with_kid_and_only_the_documented_claims(
    ring: KeyRing, clock: FakeClock
) -> None:
    header, payload = segments(issue(ring, clock))
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": ring.signing_kid}
    assert set(payload) == {"iss", "aud", "sub", "roles", "ver", "iat", "exp"}
    assert payload["iss"] == "consilium-identity"
    assert payload["aud"] == "consilium"
    assert payload["sub"] == USER
    assert payload["roles"] == ["MEMBER", "MODERATOR"]
    assert payload["ver"] == "VERIFIED"
    assert payload["exp"] - payload["iat"] == 15 * 60


def test_the_issued_token_is_not_in_the_repr(ring: KeyRing, clock: FakeClock) -> None:
    issued = TokenIssuer(ring, clock=clock).issue(USER, ROLES, VerificationStatus.PENDING)
    assert issued.token not in repr(issued)


def test_the_lifetime_is_configurable(ring: KeyRing, clock: FakeClock) -> None:
    token = issue(ring, clock, ttl=timedelta(minutes=2))
    assert verifier(ring, clock).verify(token).expires_at == START + timedelta(minutes=2)
    with pytest.raises(ValueError, match="at least one second"):
        TokenIssuer(ring, ttl=timedelta(0))


def test_the_ring_verifies_its_own_tokens(ring: KeyRing, clock: FakeClock) -> None:
    assert ring.verifier(clock=clock).verify(issue(ring, clock)).user_id == USER


# --- time -----------------------------------------------------------------------------


def test_a_token_is_valid_until_expiry_plus_leeway(ring: KeyRing, clock: FakeClock) -> None:
    token = issue(ring, clock)
    check = verifier(ring, clock)
    clock.advance(timedelta(minutes=15) + DEFAULT_LEEWAY - timedelta(seconds=1))
    assert check.verify(token).user_id == USER
    clock.advance(timedelta(seconds=1))
    expect_refusal(check, token, "token expired; sign in again")


def test_an_expired_token_is_refused(ring: KeyRing, clock: FakeClock) -> None:
    token = issue(ring, clock)
    clock.advance(timedelta(hours=1))
    expect_refusal(verifier(ring, clock), token, "token expired; sign in again")


def test_a_token_from_the_future_is_refused(ring: KeyRing, clock: FakeClock) -> None:
    token = issue(ring, FakeClock(START + timedelta(minutes=5)))
    expect_refusal(verifier(ring, clock), token, "token not valid yet; check the system clock")


def test_small_clock_skew_is_tolerated(ring: KeyRing, clock: FakeClock) -> None:
    token = issue(ring, FakeClock(START + timedelta(seconds=20)))
    assert verifier(ring, clock).verify(token).user_id == USER


def test_a_naive_clock_is_a_programming_error(ring: KeyRing, clock: FakeClock) -> None:
    token = issue(ring, clock)
    naive = TokenVerifier(ring.public_keys(), clock=lambda: datetime(2025, 3, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        naive.verify(token)


# --- wrong, forged and tampered tokens ------------------------------------------------


def test_a_token_from_an_unknown_key_is_refused(ring: KeyRing, clock: FakeClock) -> None:
    stranger = KeyRing(Ed25519PrivateKey.generate())
    expect_refusal(verifier(ring, clock), issue(stranger, clock), "unknown key id; sign in again")


def test_a_token_signed_by_another_key_under_our_kid_is_refused(
    ring: KeyRing, clock: FakeClock
) -> None:
    _, payload = segments(issue(ring, clock))
    forged = jwt.encode(
        payload, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": ring.signing_kid}
    )
    expect_refusal(verifier(ring, clock), forged, "token signature invalid")


def test_a_tampered_payload_is_refused(ring: KeyRing, clock: FakeClock) -> None:
    header, payload, signature = issue(ring, clock).split(".")
    claims = b64json(payload)
    claims["roles"] = ["ADMIN", "MEMBER"]
    raw = json.dumps(claims, separators=(",", ":")).encode()
    tampered = ".".join([header, base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), signature])
    expect_refusal(verifier(ring, clock), tampered, "token signature invalid")


def test_a_tampered_signature_is_refused(ring: KeyRing, clock: FakeClock) -> None:
    token = issue(ring, clock)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    expect_refusal(verifier(ring, clock), flipped, "token signature invalid")


def test_other_algorithms_are_refused(ring: KeyRing, clock: FakeClock) -> None:
    _, payload = segments(issue(ring, clock))
    unsigned = jwt.encode(payload, "", algorithm="none", headers={"kid": ring.signing_kid})
    hmac = jwt.encode(payload, "s" * 32, algorithm="HS256", headers={"kid": ring.signing_kid})
    for token in (unsigned, hmac):
        expect_refusal(verifier(ring, clock), token, "token algorithm not accepted; sign in again")


def test_a_token_without_kid_is_refused(ring: KeyRing, clock: FakeClock) -> None:
    _, payload = segments(issue(ring, clock))
    key = Ed25519PrivateKey.generate()
    token = jwt.encode(payload, key, algorithm="EdDSA")
    expect_refusal(verifier(ring, clock), token, "unknown key id; sign in again")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"aud": "someone-else"}, "token audience invalid; it was not issued for Consilium"),
        ({"iss": "evil-issuer"}, "token issuer invalid; it was not issued by Consilium"),
        ({"roles": ["MEMBER", "ROOT"]}, "token claims invalid; sign in again"),
        ({"ver": "MAYBE"}, "token claims invalid; sign in again"),
    ],
)
def test_foreign_or_malformed_claims_are_refused(
    ring: KeyRing, clock: FakeClock, changes: dict[str, Any], message: str
) -> None:
    _, payload = segments(issue(ring, clock))
    expect_refusal(verifier(ring, clock), ring.sign({**payload, **changes}), message)


@pytest.mark.parametrize("claim", ["sub", "exp", "iat", "aud", "iss"])
def test_a_missing_registered_claim_is_refused(ring: KeyRing, clock: FakeClock, claim: str) -> None:
    _, payload = segments(issue(ring, clock))
    del payload[claim]
    expect_refusal(
        verifier(ring, clock), ring.sign(payload), "token lacks a required claim; sign in again"
    )


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "eyJhbGciOiJFZERTQSJ9", "!!!.e30.sig", "..."])
def test_garbage_is_refused_as_malformed(ring: KeyRing, clock: FakeClock, garbage: str) -> None:
    expect_refusal(verifier(ring, clock), garbage, "token malformed; sign in again")


def test_an_empty_token_is_refused(ring: KeyRing, clock: FakeClock) -> None:
    expect_refusal(verifier(ring, clock), "", "token missing; sign in to get one")


# --- rotation and JWKS ----------------------------------------------------------------


def test_tokens_signed_with_a_retired_key_verify_while_it_is_in_the_set(clock: FakeClock) -> None:
    old_key = Ed25519PrivateKey.generate()
    old_ring = KeyRing(old_key)
    old_token = issue(old_ring, clock)

    new_ring = KeyRing(Ed25519PrivateKey.generate(), verify_keys=[old_key.public_key()])
    new_token = issue(new_ring, clock)
    check = verifier(new_ring, clock)
    assert check.verify(old_token).key_id == old_ring.signing_kid
    assert check.verify(new_token).key_id == new_ring.signing_kid
    assert new_ring.signing_kid != old_ring.signing_kid

    # Once the old key leaves the set, its tokens stop working.
    expect_refusal(
        verifier(KeyRing(Ed25519PrivateKey.generate()), clock),
        old_token,
        "unknown key id; sign in again",
    )


def test_add_verify_key_returns_its_kid_and_ignores_duplicates(ring: KeyRing) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    assert ring.add_verify_key(other) == key_id(other)
    assert ring.add_verify_key(other) == key_id(other)
    assert list(ring.public_keys()) == [ring.signing_kid, key_id(other)]


def test_the_jwks_lists_public_keys_only(ring: KeyRing) -> None:
    retired = Ed25519PrivateKey.generate().public_key()
    ring.add_verify_key(retired)
    jwks = ring.jwks()
    assert [entry["kid"] for entry in jwks["keys"]] == [ring.signing_kid, key_id(retired)]
    for entry in jwks["keys"]:
        assert set(entry) == {"kty", "crv", "x", "kid", "alg", "use"}
        assert (entry["kty"], entry["crv"], entry["alg"], entry["use"]) == (
            "OKP",
            "Ed25519",
            "EdDSA",
            "sig",
        )
        assert len(base64.urlsafe_b64decode(entry["x"] + "=")) == 32
        assert "d" not in entry
    json.dumps(jwks)  # serialisable as-is


def test_the_kid_is_the_rfc_8037_thumbprint() -> None:
    # RFC 8037 appendix A.1 key and A.3 thumbprint.
    private = base64.urlsafe_b64decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")
    public = Ed25519PrivateKey.from_private_bytes(private).public_key()
    assert public_jwk(public)["x"] == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert key_id(public) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_from_jwks_skips_foreign_key_types_and_derives_missing_kids(
    ring: KeyRing, clock: FakeClock
) -> None:
    entry = {k: v for k, v in ring.jwks()["keys"][0].items() if k != "kid"}
    jwks = {"keys": [{"kty": "RSA", "n": "xyz", "e": "AQAB", "kid": "rsa-1"}, entry]}
    assert TokenVerifier.from_jwks(jwks, clock=clock).verify(issue(ring, clock)).user_id == USER


@pytest.mark.parametrize(
    "jwks",
    [
        {},
        {"keys": "nope"},
        {"keys": ["nope"]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519"}]},
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "c2hvcnQ"}]},
        {"keys": []},
    ],
)
def test_malformed_jwks_are_refused(jwks: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        TokenVerifier.from_jwks(jwks)
