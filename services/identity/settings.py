"""Identity settings: `CONSILIUM_IDENTITY_*` plus the shared `CONSILIUM_DATA_DIR`."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import Field

from plumbing.settings import AuditProducerSettings, component_settings_config
from services.identity.domain.throttle import LoginThrottle, ThrottlePolicy


class IdentitySettings(AuditProducerSettings):
    component: ClassVar[str] = "identity"
    model_config = component_settings_config("identity")

    #: Lifetime of an access token, in seconds (short: tokens are not revocable).
    token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    #: argon2id cost; lower only for tests (hashes made with other costs are rehashed on login).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)

    #: Sign-in throttle (services.identity.domain.throttle): failures in a row before the
    #: email tried from one client address waits, and before the email waits everywhere.
    login_address_attempts: int = Field(default=5, ge=1)
    login_email_attempts: int = Field(default=50, ge=1)
    #: The first wait; each further failure doubles it, up to the maximum.
    login_backoff_seconds: float = Field(default=30.0, gt=0)
    login_max_backoff_seconds: float = Field(default=3600.0, gt=0)
    #: After this long without a failure a key's count starts again.
    login_forget_seconds: float = Field(default=86_400.0, gt=0)

    def login_throttle(self) -> LoginThrottle:
        backoff = timedelta(seconds=self.login_backoff_seconds)
        ceiling = max(backoff, timedelta(seconds=self.login_max_backoff_seconds))
        forget = timedelta(seconds=self.login_forget_seconds)
        return LoginThrottle(
            per_address=ThrottlePolicy(self.login_address_attempts, backoff, ceiling, forget),
            per_email=ThrottlePolicy(self.login_email_attempts, backoff, ceiling, forget),
        )
