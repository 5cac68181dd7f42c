"""Argon2id password hashing: hash and verify, rehash on new parameters, uniform failures."""

from __future__ import annotations

import argon2
import pytest

from plumbing.errors import ErrorCode, Unauthenticated
from services.identity.domain.passwords import (
    DEFAULT_PARAMETERS,
    INVALID_CREDENTIALS_MESSAGE,
    HashParameters,
    PasswordCheck,
    Passwords,
)

#: Cheap parameters so the suite stays fast; the defaults get one test of their own.
FAST = HashParameters(time_cost=1, memory_cost_kib=1024, parallelism=1)
STRONGER = HashParameters(time_cost=2, memory_cost_kib=2048, parallelism=1)
PASSWORD = "Tachycardia-at-dawn 7"


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords(FAST)


def test_a_hash_verifies_with_its_password(passwords: Passwords) -> None:
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert PASSWORD not in stored
    assert passwords.verify_password(stored, PASSWORD) == PasswordCheck(ok=True)


@pytest.mark.parametrize("wrong", ["", "tachycardia-at-dawn 7", PASSWORD + " ", PASSWORD[:-1]])
def test_a_wrong_password_fails(passwords: Passwords, wrong: str) -> None:
    stored = passwords.hash_password(PASSWORD)
    assert passwords.verify_password(stored, wrong) == PasswordCheck(ok=False)


def test_every_hash_has_its_own_salt(passwords: Passwords) -> None:
    first, second = passwords.hash_password(PASSWORD), passwords.hash_password(PASSWORD)
    assert first != second
    assert passwords.verify_password(first, PASSWORD).ok
    assert passwords.verify_password(second, PASSWORD).ok


def test_passwords_are_compared_after_nfkc_normalisation(passwords: Passwords) -> None:
    composed = "Caf\u00e9-au-lait-2024"
    decomposed = "Cafe\u0301-au-lait-2024"
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in "Caf-au-lait-2024")
    stored = passwords.hash_password(composed)
    assert passwords.verify_password(stored, decomposed).ok
    assert passwords.verify_password(passwords.hash_password("Caf-au-lait-2024"), fullwidth).ok


def test_an_unknown_account_fails_like_a_wrong_password(
    passwords: Passwords, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = passwords.hash_password(PASSWORD)
    calls: list[str] = []
    original = argon2.PasswordHasher.verify

    def spy(self: argon2.PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        calls.append(str(hash))
        return original(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", spy)
    assert passwords.verify_password(None, PASSWORD) == PasswordCheck(ok=False)
    assert passwords.verify_password(stored, "not the password") == PasswordCheck(ok=False)
    # One full argon2 verification each, with the same cost parameters: no timing tell.
    assert len(calls) == 2
    assert calls[0].split("$")[:4] == calls[1].split("$")[:4]


@pytest.mark.parametrize(
    "corrupt", ["", "not-a-hash", "$argon2id$v=19$m=1024,t=1,p=1$xx", "$2b$12$abc"]
)
def test_a_corrupt_stored_hash_fails_closed(passwords: Passwords, corrupt: str) -> None:
    assert passwords.verify_password(corrupt, PASSWORD) == PasswordCheck(ok=False)
    assert passwords.needs_rehash(corrupt)


def test_check_credentials_raises_one_message_for_every_failure(passwords: Passwords) -> None:
    stored = passwords.hash_password(PASSWORD)
    assert passwords.check_credentials(stored, PASSWORD).ok
    messages = []
    for stored_hash, password in [
        (None, PASSWORD),
        (stored, "wrong password!"),
        ("junk", PASSWORD),
    ]:
        with pytest.raises(Unauthenticated) as caught:
            passwords.check_credentials(stored_hash, password)
        assert caught.value.code is ErrorCode.UNAUTHENTICATED
        messages.append(caught.value.message)
    assert set(messages) == {INVALID_CREDENTIALS_MESSAGE}


def test_hashes_made_with_older_parameters_need_rehash(passwords: Passwords) -> None:
    old = passwords.hash_password(PASSWORD)
    upgraded = Passwords(STRONGER)
    check = upgraded.verify_password(old, PASSWORD)
    assert check == PasswordCheck(ok=True, needs_rehash=True)
    fresh = upgraded.hash_password(PASSWORD)
    assert upgraded.verify_password(fresh, PASSWORD) == PasswordCheck(ok=True, needs_rehash=False)
    assert not upgraded.needs_rehash(fresh)
    assert upgraded.needs_rehash(old)


def test_a_failed_check_never_asks_for_a_rehash(passwords: Passwords) -> None:
    old = passwords.hash_password(PASSWORD)
    assert Passwords(STRONGER).verify_password(old, "wrong password!") == PasswordCheck(ok=False)


def test_other_argon2_variants_verify_but_need_rehash(passwords: Passwords) -> None:
    argon2i = argon2.PasswordHasher(
        time_cost=1, memory_cost=1024, parallelism=1, type=argon2.Type.I
    ).hash(PASSWORD)
    assert passwords.verify_password(argon2i, PASSWORD) == PasswordCheck(ok=True, needs_rehash=True)


def test_the_default_parameters_follow_rfc_9106() -> None:
    assert HashParameters(time_cost=3, memory_cost_kib=65536, parallelism=4) == DEFAULT_PARAMETERS
    hasher = Passwords()
    assert hasher.parameters is DEFAULT_PARAMETERS
    assert hasher.hash_password(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
