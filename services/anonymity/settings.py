"""Anonymity settings: `CONSILIUM_ANONYMITY_*` plus the shared `CONSILIUM_DATA_DIR`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from plumbing.settings import DEFAULT_PORTS, AuditProducerSettings, component_settings_config
from services.anonymity.domain.personas import DEFAULT_K


class AnonymitySettings(AuditProducerSettings):
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
