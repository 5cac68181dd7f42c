"""Anonymity settings: `CONSILIUM_ANONYMITY_*` plus the shared `CONSILIUM_DATA_DIR`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from plumbing.settings import DEFAULT_PORTS, ComponentSettings, component_settings_config
from services.anonymity.domain.personas import DEFAULT_K


class AnonymitySettings(ComponentSettings):
    component: ClassVar[str] = "anonymity"
    model_config = component_settings_config("anonymity")

    #: A persona shows its specialty only when at least this many VERIFIED members share it.
    k_anonymity: int = Field(default=DEFAULT_K, ge=1)
    #: gRPC address of the identity service (token keys, specialty names, account actions,
    #: and persona attributes of people anonymity has no record of yet).
    identity_address: str = f"127.0.0.1:{DEFAULT_PORTS['identity']}"
    #: Seconds persona attributes asked of identity are reused. Only people with no record
    #: from identity's events yet are asked (see services.anonymity.attributes).
    attributes_cache_seconds: float = Field(default=30.0, ge=0)
    #: Seconds identity's answers for counts and specialty names are reused. Counts now come
    #: from anonymity's own store, and names are kept once fetched; kept for compatibility.
    counts_cache_seconds: float = Field(default=60.0, ge=0)
    #: Seconds identity's answer on a staff member's current status and roles is reused
    #: before a reveal, an act or an admin listing (at most 1: the time a revocation may
    #: take to bite; 0 asks every time).
    staff_check_seconds: float = Field(default=1.0, ge=0, le=1.0)
    #: The master key ring as JSON (see services.anonymity.keys); wins over the file.
    master_keys: SecretStr | None = None
    #: A file holding the same JSON, e.g. a mounted Kubernetes secret.
    master_keys_file: Path | None = None
    #: The Ed25519 key signing the audit chain, as PKCS#8 PEM (see
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
    #: must not reach; default `<data dir>/anonymity/erasure-log.jsonl`.
    erasure_log: Path | None = None

    @property
    def resolved_erasure_log(self) -> Path:
        return self.erasure_log or self.component_dir / "erasure-log.jsonl"
