"""Property tests of access-token verification: anything but a good token is Unauthenticated."""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from plumbing.auth.claims import AUDIENCE, ISSUER
from plumbing.auth.jwk import ALGORITHM
from plumbing.errors import Unauthenticated
from services.identity.domain.physician import Role, VerificationStatus
from services.identity.tokens import KeyRing, TokenIssuer

BOUNDED = settings(max_examples=40, derandomize=True, database=None, deadline=None)
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
RING = KeyRing(KEY)
VERIFIER = RING.verifier(clock=lambda: NOW)
GOOD = (
    TokenIssuer(RING, clock=lambda: NOW)
    .issue("usr_abcdefghijklmnopqrstuvwxyz", {Role.MEMBER}, VerificationStatus.VERIFIED)
    .token
)


def test_the_good_token_verifies() -> None:
    assert VERIFIER.verify(GOOD).user_id == "usr_abcdefghijklmnopqrstuvwxyz"


def _refused(token: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        VERIFIER.verify(token)
    # The reason is ours, never the token (nor part of it) echoed back.
    if len(token) >= 8:
        assert token not in str(refused.value)


@BOUNDED
@given(st.text(max_size=300))
def test_garbage_is_unauthenticated(token: str) -> None:
    _refused(token)


@BOUNDED
@given(st.integers(0, len(GOOD) - 1))
def test_a_truncated_token_is_unauthenticated(length: int) -> None:
    _refused(GOOD[:length])


@BOUNDED
@given(st.integers(0, len(GOOD) - 1), st.sampled_from("ABCDEFabcdef0123456789-_.=+/ %"))
def test_a_tampered_token_is_unauthenticated(position: int, char: str) -> None:
    tampered = GOOD[:position] + char + GOOD[position + 1 :]
    if tampered == GOOD:
        return
    try:
        claims = VERIFIER.verify(tampered)
    except Unauthenticated:
        return
    # base64url's last character carries spare bits: a change there may decode to the
    # same bytes, which is the same token, not a forgery.
    assert claims == VERIFIER.verify(GOOD)


def _segment(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
claim_values = {
    "sub": st.one_of(json_values, st.just("usr_x")),
    "roles": st.one_of(json_values, st.lists(st.sampled_from([r.value for r in Role] + ["ROOT"]))),
    "ver": st.one_of(json_values, st.sampled_from([s.value for s in VerificationStatus])),
    "iat": st.one_of(json_values, st.integers(-(2**70), 2**70)),
    "exp": st.one_of(json_values, st.integers(-(2**70), 2**70)),
    "iss": st.one_of(json_values, st.just(ISSUER)),
    "aud": st.one_of(json_values, st.just(AUDIENCE)),
}
payloads = st.fixed_dictionaries({}, optional=claim_values)


@BOUNDED
@given(payloads)
def test_a_correctly_signed_token_with_bad_claims_is_unauthenticated_or_valid(
    payload: dict[str, Any],
) -> None:
    # The signature is good, so only the claims can fail; they must fail as Unauthenticated.
    # Signed by hand: PyJWT's encoder refuses some of these claims, a forger's would not.
    signing_input = f"{_segment({'alg': ALGORITHM, 'kid': RING.signing_kid})}.{_segment(payload)}"
    signature = base64.urlsafe_b64encode(KEY.sign(signing_input.encode())).decode().rstrip("=")
    token = f"{signing_input}.{signature}"
    with contextlib.suppress(Unauthenticated):
        VERIFIER.verify(token)


@BOUNDED
@given(json_values, payloads)
def test_forged_headers_are_unauthenticated(header: Any, payload: dict[str, Any]) -> None:
    signature = GOOD.rsplit(".", 1)[1]
    _refused(f"{_segment(header)}.{_segment(payload)}.{signature}")
