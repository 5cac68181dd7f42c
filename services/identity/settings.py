"""Identity settings: `CONSILIUM_IDENTITY_*` plus the shared `CONSILIUM_DATA_DIR`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from plumbing.settings import ComponentSettings, component_settings_config
from services.identity.domain.throttle import LoginThrottle, ThrottlePolicy


class IdentitySettings(ComponentSettings):
    component: ClassVar[str] = "identity"
    model_config = component_settings_config("identity")

    #: Lifetime of an access token, in seconds (short: tokens are not revocable).
    token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    #: argon2id cost; lower only for tests (hashes made with other costs are rehashed on login).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    #: The Ed25519 key signing identity's audit chain, as PKCS#8 PEM (see
    #: plumbing.auditkeys); wins over the file.
    audit_signing_key: SecretStr | None = None
    #: A file holding that PEM, e.g. a mounted Kubernetes secret.
    audit_signing_key_file: Path | None = None
    #: The key that signed the chain before `audit_signing_key`, to rotate at start-up: a
    #: KEY_ROTATED event signed with it names the new key (plumbing.auditrotation).
    audit_previous_signing_key: SecretStr | None = None
    audit_previous_signing_key_file: Path | None = None
    #: Seconds between checks whether the signed chain head moved (published when it did;
    #: a write brings the check forward to within a second).
    audit_head_interval: float = Field(default=30.0, gt=0)
    #: The erasure log (plumbing.erasurelog): an append-only file that database restores
    #: must not reach; default `<data dir>/identity/erasure-log.jsonl`.
    erasure_log: Path | None = None

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

    @property
    def resolved_erasure_log(self) -> Path:
        return self.erasure_log or self.component_dir / "erasure-log.jsonl"
