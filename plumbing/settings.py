"""Settings shared by every component, read from the environment (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Default ports of "Running it" in DESIGN.md; one place so the CLI, the gateway and docs agree.
DEFAULT_PORTS: dict[str, int] = {
    "gateway": 8000,
    "identity": 50051,
    "anonymity": 50052,
    "content": 50053,
    "audit": 50054,
}

Environment = Literal["dev", "production"]


class ComponentSettings(BaseSettings):
    """What every gRPC component needs; subclasses set `component` and the env prefix.

    `CONSILIUM_DATA_DIR` and `CONSILIUM_ENV` are shared by all components; everything else
    is read with the component's own prefix, e.g. `CONSILIUM_IDENTITY_PORT`.
    """

    component: ClassVar[str] = ""
    model_config = SettingsConfigDict(extra="ignore")

    data_dir: Path = Field(
        default=Path(".consilium"),
        validation_alias=AliasChoices("CONSILIUM_DATA_DIR", "data_dir"),
    )
    environment: Environment = Field(
        default="dev", validation_alias=AliasChoices("CONSILIUM_ENV", "environment")
    )
    #: Kafka bootstrap servers; unset means the embedded bus under the data dir (dev).
    kafka_bootstrap: str | None = Field(
        default=None, validation_alias=AliasChoices("CONSILIUM_KAFKA_BOOTSTRAP", "kafka_bootstrap")
    )
    host: str = "127.0.0.1"
    #: gRPC port; unset means the component's default, 0 an ephemeral port (tests).
    port: int | None = Field(default=None, ge=0, le=65535)
    database_url: str | None = None
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    #: Seconds in-flight RPCs get to finish on SIGTERM (the Helm termination grace must exceed it).
    shutdown_grace: float = Field(default=10.0, ge=0)
    #: Seconds between dependency checks behind the gRPC health status.
    health_interval: float = Field(default=5.0, gt=0)
    #: Port of the Prometheus endpoint (`GET /metrics`); unset: none (0: an ephemeral port).
    metrics_port: int | None = Field(default=None, ge=0, le=65535)

    def model_post_init(self, __context: object) -> None:
        if self.port is None and self.component:
            self.port = DEFAULT_PORTS[self.component]

    @property
    def component_dir(self) -> Path:
        """`<data dir>/<component>/`, where this component keeps its files."""
        return self.data_dir / self.component

    @property
    def resolved_database_url(self) -> str:
        """The configured database URL, or a SQLite file under the component's directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.component_dir / f'{self.component}.db').resolve()}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class AuditProducerSettings(ComponentSettings):
    """A component that signs an audit chain (identity, anonymity): its keys, how often its
    chain head is published, and its erasure log."""

    #: The Ed25519 key signing the component's audit chain, as PKCS#8 PEM (see
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
    #: must not reach; default `<data dir>/<component>/erasure-log.jsonl`.
    erasure_log: Path | None = None

    @property
    def resolved_erasure_log(self) -> Path:
        return self.erasure_log or self.component_dir / "erasure-log.jsonl"


def component_settings_config(component: str) -> SettingsConfigDict:
    """The pydantic-settings config for one component: prefix `CONSILIUM_<COMPONENT>_`."""
    return SettingsConfigDict(env_prefix=f"CONSILIUM_{component.upper()}_", extra="ignore")
