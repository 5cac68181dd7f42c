"""Audit settings: `CONSILIUM_AUDIT_*` plus the shared `CONSILIUM_DATA_DIR`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from plumbing.settings import DEFAULT_PORTS, ComponentSettings, component_settings_config


class AuditSettings(ComponentSettings):
    component: ClassVar[str] = "audit"
    model_config = component_settings_config("audit")

    #: gRPC address of the identity service, whose public keys verify auditors' tokens and
    #: whose CheckActor says, on every query, whether the auditor still holds the role.
    identity_address: str = f"127.0.0.1:{DEFAULT_PORTS['identity']}"
    #: Seconds identity's answer on an auditor's current status and roles is reused (at
    #: most 1: the time a demotion or suspension may take to bite; 0 asks every time).
    staff_check_seconds: float = Field(default=1.0, ge=0, le=1.0)
    #: Directory of the producers' Ed25519 public keys, one `<key_id>.pem` each; unset means
    #: `<data dir>/audit/trusted-keys/` (`CONSILIUM_AUDIT_TRUSTED_KEYS_DIR` in production).
    trusted_keys_dir: Path | None = None

    #: Expected producers and their pinned keys, JSON `{"<producer>": ["<PEM or key id>"]}`
    #: (`CONSILIUM_AUDIT_PRODUCERS`), or a file holding it (`CONSILIUM_AUDIT_PRODUCERS_FILE`).
    #: Unset: every trusted key is good for every producer and none is expected (dev).
    producers: str = ""
    producers_file: Path | None = None
    #: The ledger's checkpoint-signing Ed25519 key, a PKCS#8 PEM, or a file holding it; unset
    #: in dev means a key generated once under `<data dir>/audit/checkpoint/keys/`.
    checkpoint_key: SecretStr | None = None
    checkpoint_key_file: Path | None = None
    #: The Ed25519 key signing the ledger's own chain as producer "audit" (every auditor
    #: query is an event), a PKCS#8 PEM (`CONSILIUM_AUDIT_AUDIT_SIGNING_KEY`) or a file holding
    #: it (`_FILE`); unset in dev means a key generated once under `<data dir>/audit/keys/`.
    audit_signing_key: SecretStr | None = None
    audit_signing_key_file: Path | None = None
    #: Seconds between signed checkpoints (one is also signed on every GetCheckpoint).
    checkpoint_interval: float = Field(default=60.0, gt=0)

    def producers_config(self) -> tuple[str, str]:
        """(JSON text, where it came from) of the producers configuration."""
        if self.producers_file is not None:
            return self.producers_file.read_text(), str(self.producers_file)
        return self.producers, "CONSILIUM_AUDIT_PRODUCERS"

    @property
    def resolved_trusted_keys_dir(self) -> Path:
        return self.trusted_keys_dir or self.component_dir / "trusted-keys"
