"""Remembered verifications: a token's signature is checked once, yet an entry never outlives
the token's expiry, a token differing in any byte (or signed by an untrusted key) is checked
in full and refused, and the memory keeps its bound."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from plumbing.auth import Role, TokenVerifier, VerificationStatus
from plumbing.auth import verifier as verifier_module
from plumbing.auth.service import ServiceCredentials, ServicePrincipal
from plumbing.auth.servicekeys import PeerKeys
from plumbing.auth.verified import VerifiedCache, token_digest
from plumbing.errors import Unauthenticated
from plumbing.signingkeys import SigningKey
from services.identity.tokens import KeyRing, TokenIssuer

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
USER = "usr_abcdefghijklmnopqrstuvwxyz"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _issue(ring: KeyRing, user: str = USER, ttl: timedelta = timedelta(minutes=15)) -> str:
    issuer = TokenIssuer(ring, ttl=ttl, clock=lambda: NOW)
    return issuer.issue(user, {Role.MEMBER}, VerificationStatus.VERIFIED).token


def _count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = verifier_module._decode

    def counting(token: str, public_key: Any) -> dict[str, Any]:
        seen.append(token)
        return real(token, public_key)

    monkeypatch.setattr(verifier_module, "_decode", counting)
    return seen


def _tamper_signature(token: str) -> str:
    """Same header and payload, another signature of the right length."""
    head, _, signature = token.rpartition(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    return f"{head}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def test_an_access_token_is_checked_once_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decodes = _count_decodes(monkeypatch)
    ring = KeyRing(Ed25519PrivateKey.generate())
    clock = Clock(NOW)
    verifier = ring.verifier(clock=clock, leeway=timedelta(seconds=30))
    token = _issue(ring, ttl=timedelta(minutes=5))
    assert verifier.verify(token).user_id == USER
    assert verifier.verify(token).user_id == USER
    assert decodes == [token]
    clock.now = NOW + timedelta(minutes=5, seconds=31)  # past expiry and leeway
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(token)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(token)  # and nothing was remembered past it either
    assert len(decodes) == 3


def test_a_remembered_token_does_not_vouch_for_a_lookalike() -> None:
    ring = KeyRing(Ed25519PrivateKey.generate())
    verifier = ring.verifier(clock=lambda: NOW)
    token = _issue(ring)
    assert verifier.verify(token).user_id == USER  # remembered
    tampered = _tamper_signature(token)
    assert tampered.rpartition(".")[0] == token.rpartition(".")[0]
    with pytest.raises(Unauthenticated, match="signature"):
        verifier.verify(tampered)
    # The same claims and kid, signed by a key this verifier does not trust.
    stranger = Ed25519PrivateKey.generate()
    payload = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    forged = jwt.encode(payload, stranger, algorithm="EdDSA", headers={"kid": kid})
    with pytest.raises(Unauthenticated, match="signature"):
        verifier.verify(forged)
    with pytest.raises(Unauthenticated, match="signature"):
        verifier.verify(forged)  # a failure is never remembered


def test_a_new_key_set_forgets_what_the_old_one_verified() -> None:
    ring = KeyRing(Ed25519PrivateKey.generate())
    token = _issue(ring)
    assert ring.verifier(clock=lambda: NOW).verify(token).user_id == USER
    other = TokenVerifier(KeyRing(Ed25519PrivateKey.generate()).public_keys(), clock=lambda: NOW)
    with pytest.raises(Unauthenticated):
        other.verify(token)


def test_the_access_token_memory_keeps_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    decodes = _count_decodes(monkeypatch)
    ring = KeyRing(Ed25519PrivateKey.generate())
    verifier = TokenVerifier(ring.public_keys(), clock=lambda: NOW, capacity=2)
    tokens = [_issue(ring, user=f"usr_{c * 26}") for c in "abc"]
    for token in tokens:
        verifier.verify(token)
    verifier.verify(tokens[2])
    verifier.verify(tokens[1])
    assert len(decodes) == 3  # the two most recent are remembered
    verifier.verify(tokens[0])  # the oldest was forgotten: checked again
    assert len(decodes) == 4


def _service_pair(clock: list[float]) -> tuple[ServiceCredentials, ServiceCredentials]:
    key = SigningKey.generate()
    gateway = ServiceCredentials("gateway", key, PeerKeys.pinned({}))
    content = ServiceCredentials(
        "content",
        SigningKey.generate(),
        PeerKeys.pinned({"gateway": key.public_key}),
        clock=lambda: clock[0],
    )
    return gateway, content


def test_a_remembered_service_token_expires_with_the_token() -> None:
    clock = [time.time()]
    gateway, content = _service_pair(clock)
    claims = {"iss": "gateway", "sub": "svc:gateway", "aud": "content"}
    token = gateway.sign({**claims, "exp": int(clock[0]) + 60})
    assert content.verify(token, audience="content") == ServicePrincipal("gateway")
    clock[0] += 30
    assert content.verify(token, audience="content") == ServicePrincipal("gateway")
    clock[0] += 40  # 70 s: past expiry and the 5 s leeway
    with pytest.raises(Unauthenticated, match="expired"):
        content.verify(token, audience="content")


def test_a_remembered_service_token_does_not_vouch_for_a_lookalike_or_another_audience() -> None:
    clock = [time.time()]
    gateway, content = _service_pair(clock)
    token = gateway.metadata(audience="content")[0][1]
    assert content.verify(token, audience="content").name == "gateway"
    with pytest.raises(Unauthenticated):
        content.verify(_tamper_signature(token), audience="content")
    with pytest.raises(Unauthenticated):
        content.verify(token, audience="anonymity")  # remembered for content only
    payload = jwt.decode(token, options={"verify_signature": False})
    stranger = ServiceCredentials("gateway", SigningKey.generate(), PeerKeys.pinned({}))
    for _ in range(2):  # refused, and not remembered as refused-then-accepted either
        with pytest.raises(Unauthenticated):
            content.verify(stranger.sign(payload), audience="content")


def test_the_cache_bound_and_expiry() -> None:
    cache: VerifiedCache[str] = VerifiedCache(capacity=2)
    keys = [token_digest(t) for t in ("a", "b", "c")]
    for key, value in zip(keys, "abc", strict=True):
        cache.put(key, value, expires=100.0)
    assert len(cache) == 2 and cache.get(keys[0], now=0.0) is None
    assert cache.get(keys[2], now=99.9) == "c"
    assert cache.get(keys[2], now=100.0) is None and len(cache) == 1
    assert token_digest("t", "content") != token_digest("t", "anonymity") != token_digest("t")
    with pytest.raises(ValueError):
        VerifiedCache[str](capacity=0)
