"""Argon2id password hashing, with a sign-in check whose timing does not reveal accounts."""

from __future__ import annotations

import contextlib
import unicodedata
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from plumbing.errors import Unauthenticated

__all__ = [
    "DEFAULT_PARAMETERS",
    "INVALID_CREDENTIALS_MESSAGE",
    "HashParameters",
    "PasswordCheck",
    "Passwords",
]

#: The one message for every failed sign-in: it must not tell "no such account" from
#: "wrong password".
INVALID_CREDENTIALS_MESSAGE = "email or password is incorrect"


@dataclass(frozen=True, slots=True)
class HashParameters:
    """Argon2id cost settings. Raising any of them makes stored hashes `needs_rehash`."""

    time_cost: int
    memory_cost_kib: int
    parallelism: int
    hash_len: int = 32
    salt_len: int = 16


#: RFC 9106's second recommended option ("low memory"): t=3, m=64 MiB, p=4; argon2-cffi
#: uses the same by default. About 50 ms per hash on a current server core.
DEFAULT_PARAMETERS = HashParameters(time_cost=3, memory_cost_kib=64 * 1024, parallelism=4)


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """The outcome of checking a password against a stored hash.

    `needs_rehash` is only ever true when `ok` is: store `hash_password(password)` then,
    so hashes follow the current parameters as members sign in.
    """

    ok: bool
    needs_rehash: bool = False


class Passwords:
    """Hashes and checks passwords with argon2id.

    Passwords are NFKC-normalised first (NIST SP 800-63B 5.1.1.2), so the same passphrase
    typed on keyboards that emit different Unicode forms still matches.
    """

    def __init__(self, parameters: HashParameters = DEFAULT_PARAMETERS) -> None:
        self._parameters = parameters
        self._hasher = argon2.PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost_kib,
            parallelism=parameters.parallelism,
            hash_len=parameters.hash_len,
            salt_len=parameters.salt_len,
            type=argon2.Type.ID,
        )
        # Checked against when the account does not exist, so an unknown email costs the
        # same argon2 work as a known one with a wrong password.
        self._dummy_hash = self._hasher.hash(_normalize("consilium-timing-equaliser"))

    @property
    def parameters(self) -> HashParameters:
        """The cost settings new hashes are made with."""
        return self._parameters

    def hash_password(self, password: str) -> str:
        """An argon2id PHC string (`$argon2id$v=19$...`) with a fresh random salt."""
        return self._hasher.hash(_normalize(password))

    def verify_password(self, stored_hash: str | None, password: str) -> PasswordCheck:
        """Check `password` against `stored_hash`; pass None when there is no such account.

        Never raises for a wrong password, an unknown account or a corrupt stored hash: each
        is `ok=False`, after the same amount of hashing work.
        """
        candidate = _normalize(password)
        if stored_hash is None:
            self._burn(candidate)
            return PasswordCheck(ok=False)
        try:
            self._hasher.verify(stored_hash, candidate)
        except VerifyMismatchError:
            return PasswordCheck(ok=False)
        except (InvalidHashError, VerificationError):
            # A hash we cannot read fails closed, after comparable work.
            self._burn(candidate)
            return PasswordCheck(ok=False)
        return PasswordCheck(ok=True, needs_rehash=self.needs_rehash(stored_hash))

    def check_credentials(self, stored_hash: str | None, password: str) -> PasswordCheck:
        """`verify_password`, raising Unauthenticated with the one sign-in failure message."""
        result = self.verify_password(stored_hash, password)
        if not result.ok:
            raise Unauthenticated(INVALID_CREDENTIALS_MESSAGE)
        return result

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether `stored_hash` was made with other parameters (or another variant)."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return True

    def _burn(self, candidate: str) -> None:
        with contextlib.suppress(VerificationError):
            self._hasher.verify(self._dummy_hash, candidate)


def _normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)
