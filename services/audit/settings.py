"""Audit settings: `CONSILIUM_AUDIT_*` plus the shared `CONSILIUM_DATA_DIR`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from plumbing.settings import DEFAULT_PORTS, ComponentSettings, component_settings_config


class AuditSettings(ComponentSettings):
    component: ClassVar[str] = "audit"
    model_config = component_settings_config("audit")

    #: gRPC address of the identity service, whose public keys verify auditors' tokens.
    identity_address: str = f"127.0.0.1:{DEFAULT_PORTS['identity']}"
    #: Directory of the producers' Ed25519 public keys, one `<key_id>.pem` each; unset means
    #: `<data dir>/audit/trusted-keys/` (`CONSILIUM_AUDIT_TRUSTED_KEYS_DIR` in production).
    trusted_keys_dir: Path | None = None

    @property
    def resolved_trusted_keys_dir(self) -> Path:
        return self.trusted_keys_dir or self.component_dir / "trusted-keys"
