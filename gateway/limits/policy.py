"""The limits of one gateway replica, built once from settings and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.limits.buckets import TokenBuckets
from gateway.limits.client_address import ClientAddresses
from gateway.limits.idempotency import IdempotencyStore
from gateway.limits.writes import WriteLimit
from gateway.settings import GatewaySettings, parse_networks


@dataclass(frozen=True, slots=True)
class GatewayLimits:
    """Per-person writes, anonymous callers per address, and idempotent mutation retries."""

    writes: WriteLimit
    anonymous: TokenBuckets
    addresses: ClientAddresses
    idempotency: IdempotencyStore

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> GatewayLimits:
        max_keys = settings.rate_limit_max_keys
        return cls(
            writes=WriteLimit(
                TokenBuckets(settings.writes_per_minute, max_keys=max_keys),
                settings.writes_per_minute,
            ),
            anonymous=TokenBuckets(settings.anonymous_requests_per_minute, max_keys=max_keys),
            addresses=ClientAddresses(parse_networks(settings.trusted_proxies)),
            idempotency=IdempotencyStore(
                ttl=settings.idempotency_ttl_seconds, max_entries=settings.idempotency_max_entries
            ),
        )
