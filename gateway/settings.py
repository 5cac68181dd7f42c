"""Gateway settings: `CONSILIUM_GATEWAY_*` plus the shared data dir and environment."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from plumbing.settings import DEFAULT_PORTS

#: What `CONSILIUM_GATEWAY_TRUSTED_PROXIES` lists (gateway/limits/client_address.py reads it).
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 192.168.1.10, fd00::/8` as networks; ValueError names a bad entry."""
    networks = []
    for part in text.replace(";", ",").split(","):
        entry = part.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"not an address or CIDR network: {entry!r}") from None
    return tuple(networks)


def _upstream(component: str) -> str:
    return f"127.0.0.1:{DEFAULT_PORTS[component]}"


class GatewaySettings(BaseSettings):
    """Where the gateway listens, where its upstreams are, and the limits it enforces."""

    model_config = SettingsConfigDict(env_prefix="CONSILIUM_GATEWAY_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".consilium"), validation_alias=AliasChoices("CONSILIUM_DATA_DIR", "data_dir")
    )
    environment: Literal["dev", "production"] = Field(
        default="dev", validation_alias=AliasChoices("CONSILIUM_ENV", "environment")
    )
    host: str = "127.0.0.1"
    port: int = Field(default=DEFAULT_PORTS["gateway"], ge=0, le=65535)
    identity_address: str = _upstream("identity")
    anonymity_address: str = _upstream("anonymity")
    content_address: str = _upstream("content")
    audit_address: str = _upstream("audit")
    #: Kafka bootstrap servers; unset means the embedded bus under the data dir (dev).
    kafka_bootstrap: str | None = Field(
        default=None, validation_alias=AliasChoices("CONSILIUM_KAFKA_BOOTSTRAP", "kafka_bootstrap")
    )
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    #: Port of the Prometheus endpoint (`GET /metrics`), apart from the public HTTP port so
    #: a NetworkPolicy can admit only Prometheus to it; unset: none (0: an ephemeral port).
    metrics_port: int | None = Field(default=None, ge=0, le=65535)

    #: Seconds every upstream call may take; the whole request gets `request_timeout`.
    upstream_deadline: float = Field(default=5.0, gt=0)
    request_timeout: float = Field(default=15.0, gt=0)
    max_depth: int = Field(default=10, ge=1)
    max_tokens: int = Field(default=2000, ge=10)
    max_aliases: int = Field(default=15, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_page_size: int = Field(default=50, ge=1)
    #: The static cost an operation may have (gateway/extensions/cost.py): a full feed page
    #: with 50 comments each and their authors costs about 5,200; 15 of them, 77,000.
    max_cost: int = Field(default=10_000, ge=1)
    #: The size the cost limit assumes for a list without a `first` argument.
    assumed_list_size: int = Field(default=10, ge=1)

    #: Events one subscription may hold unsent; past that it is ended (a slow client must
    #: never hold up the others, nor grow the gateway's memory).
    subscription_buffer: int = Field(default=64, ge=1)
    #: WebSocket permessage-deflate (gateway/serve.py says why it is off by default).
    ws_compression: bool = False
    #: Live subscriptions this replica serves in all, and per WebSocket connection.
    max_subscriptions: int = Field(default=10_000, ge=1)
    max_subscriptions_per_connection: int = Field(default=20, ge=1)
    #: Seconds between looks at a `notificationAdded` subscriber's own index (anonymity
    #: announces nothing person-keyed, so the gateway asks; one cheap call per subscriber).
    notification_poll_seconds: float = Field(default=2.0, gt=0)
    #: Seconds a new WebSocket has to send `connection_init` before it is closed (4408).
    connection_init_timeout: float = Field(default=10.0, gt=0)

    #: Limits (gateway/limits/, README "Limits"), per replica. Posts, comments, reactions and
    #: votes one person may send a minute (all together), and requests a minute from one
    #: client address without a valid token.
    writes_per_minute: int = Field(default=30, ge=1)
    anonymous_requests_per_minute: int = Field(default=300, ge=1)
    #: Proxies whose X-Forwarded-For is believed: addresses or CIDR networks, comma-separated.
    #: Empty: the connecting peer is the client (behind a proxy, set this, or every caller
    #: shares the proxy's budget).
    trusted_proxies: str = ""
    #: Keys (people, addresses) each limiter remembers at most; the oldest go first.
    rate_limit_max_keys: int = Field(default=100_000, ge=1)
    #: How long a mutation's answer is kept for retries with its Idempotency-Key, and how many.
    idempotency_ttl_seconds: float = Field(default=86_400.0, gt=0)
    idempotency_max_entries: int = Field(default=10_000, ge=1)

    #: Process-wide caches (gateway/caches.py): what no viewer changes. Communities and
    #: specialties change only by migration or seed; personas are frozen per alias, except
    #: an IDENTIFIED one's display name, which erasure shreds without announcing it: that is
    #: kept at most `persona_cache_identified_ttl_seconds` (0 keeps none). 0 entries: off.
    community_cache_ttl_seconds: float = Field(default=300.0, ge=0)
    community_cache_max_entries: int = Field(default=1_000, ge=0)
    specialty_cache_ttl_seconds: float = Field(default=3_600.0, ge=0)
    persona_cache_ttl_seconds: float = Field(default=600.0, ge=0)
    persona_cache_max_entries: int = Field(default=50_000, ge=0)
    persona_cache_identified_ttl_seconds: float = Field(default=30.0, ge=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # fails at startup, naming the bad entry
        return value

    #: A trusted-documents manifest (`consilium persisted build`): Relay's `{sha256: document}`
    #: map or Apollo's persisted-query manifest, verified at start.
    persisted_manifest: Path | None = None
    #: `off`, `allow` (trusted ids, APQ and free-form documents run) or `only` (only the
    #: manifest's operations run: production's choice). gateway/persisted/operations.py.
    persisted_mode: Literal["off", "allow", "only"] = "allow"
    #: Documents the automatic persisted queries of `allow` mode keep (least recently used go).
    persisted_cache_size: int = Field(default=1000, ge=1)

    @property
    def dev(self) -> bool:
        """Dev mode: GraphiQL, introspection and field suggestions on."""
        return self.environment == "dev"
