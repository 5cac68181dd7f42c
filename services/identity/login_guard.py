"""The sign-in throttle as the login use case applies it: keyed hashes, admit, count, forget.

State lives in identity's database (`LoginAttempts`), so every replica of identity, and so
every gateway replica, shares it, and a restart forgets nothing. Keys are HMAC-SHA256 of the
normalised email (and of the email with the client's address) under a secret key: the table
holds no email or address, and an unknown email is counted exactly like a known one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from plumbing.errors import RateLimited
from plumbing.secretkeys import load_secret_key
from services.identity.domain.throttle import LoginThrottle, ThrottleScope, ThrottleState
from services.identity.ports import LoginAttempts

log = logging.getLogger("consilium.identity.login")

THROTTLE_KEY_ENV = "CONSILIUM_IDENTITY_LOGIN_THROTTLE_KEY"
THROTTLE_KEY_FILE_ENV = "CONSILIUM_IDENTITY_LOGIN_THROTTLE_KEY_FILE"
DEV_THROTTLE_KEY_PATH = Path("identity", "keys", "login-throttle-key")
_CONTEXT = b"consilium login throttle v1\x00"

#: Every so many sign-ins this process handles, states quiet for longer than a policy
#: remembers are deleted, so guesses at unknown emails do not pile up rows for ever.
PURGE_EVERY = 500

THROTTLED_MESSAGE = (
    "too many failed sign-ins for this email; wait before trying again "
    "(the Retry-After header says how long)"
)


def load_throttle_key(data_dir: Path, *, allow_dev: bool) -> bytes:
    """The HMAC key of throttle keys; every identity replica must hold the same one."""
    return load_secret_key(
        key_env=THROTTLE_KEY_ENV,
        file_env=THROTTLE_KEY_FILE_ENV,
        dev_path=data_dir / DEV_THROTTLE_KEY_PATH,
        allow_dev=allow_dev,
    )


@dataclass(frozen=True, slots=True)
class Admission:
    """A sign-in attempt let through: its keys and their states before it."""

    keys: dict[ThrottleScope, str]
    states: dict[ThrottleScope, ThrottleState]


class LoginGuard:
    """Decides, inside the login's unit of work, whether a sign-in may be tried at all."""

    def __init__(self, key: bytes, throttle: LoginThrottle) -> None:
        self._key = key
        self._throttle = throttle
        self._since_purge = 0

    def keys(self, email: str, client_address: str) -> dict[ThrottleScope, str]:
        """The throttle keys of a (normalised) email tried from `client_address`."""
        return {
            ThrottleScope.EMAIL: self._hash(ThrottleScope.EMAIL, email),
            ThrottleScope.EMAIL_AND_ADDRESS: self._hash(
                ThrottleScope.EMAIL_AND_ADDRESS, email, client_address.strip().lower()
            ),
        }

    async def admit(
        self, attempts: LoginAttempts, email: str, client_address: str, now: datetime
    ) -> Admission:
        """The admission, or RateLimited while either key waits (a correct password too)."""
        keys = self.keys(email, client_address)
        locked = await attempts.lock(keys.values())
        states = {scope: locked.get(key, ThrottleState()) for scope, key in keys.items()}
        wait = self._throttle.wait(states, now)
        if wait is not None:
            scopes = ",".join(s.value for s, st in states.items() if st.wait(now) is not None)
            log.info("sign-in refused: throttled by %s", scopes)  # no email, no address
            raise RateLimited(THROTTLED_MESSAGE, retry_after=wait.total_seconds())
        return Admission(keys, states)

    async def failed(self, attempts: LoginAttempts, admission: Admission, now: datetime) -> None:
        """Counts one failure against both keys (each may start or lengthen a wait)."""
        for scope, key in admission.keys.items():
            state = admission.states[scope].after_failure(self._throttle.policy(scope), now)
            await attempts.save(key, state)
        await self._maybe_purge(attempts, now)

    async def succeeded(self, attempts: LoginAttempts, admission: Admission, now: datetime) -> None:
        """The right password from this address: its own count starts again. The email-wide
        count is kept until it is forgotten (a success elsewhere must not hand a guesser
        spread over many addresses a fresh budget)."""
        done = [admission.keys[ThrottleScope.EMAIL_AND_ADDRESS]]
        email_state = admission.states[ThrottleScope.EMAIL]
        if email_state.forgotten(self._throttle.per_email, now):
            done.append(admission.keys[ThrottleScope.EMAIL])
        await attempts.forget(done)
        await self._maybe_purge(attempts, now)

    async def _maybe_purge(self, attempts: LoginAttempts, now: datetime) -> None:
        self._since_purge += 1
        if self._since_purge < PURGE_EVERY:
            return
        self._since_purge = 0
        longest = max(
            self._throttle.per_email.forget_after, self._throttle.per_address.forget_after
        )
        await attempts.forget_quiet(now - longest, now)

    def _hash(self, scope: ThrottleScope, *parts: str) -> str:
        message = _CONTEXT + scope.value.encode() + b"\x00" + "\x00".join(parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
