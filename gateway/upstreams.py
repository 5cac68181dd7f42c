"""The upstream clients one gateway process shares across requests, and how they connect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.auth import Authenticator
from gateway.caches import SharedCaches
from gateway.clients.anonymity import AnonymityClient
from gateway.clients.audit import AuditClient
from gateway.clients.content import ContentClient
from gateway.clients.identity import IdentityClient
from gateway.settings import GatewaySettings
from plumbing.auth.service import ServiceCredentials


@dataclass(frozen=True, slots=True)
class Upstreams:
    """The clients shared by every request of this process."""

    identity: IdentityClient
    anonymity: AnonymityClient
    content: ContentClient
    audit: AuditClient
    authenticator: Authenticator
    #: What no viewer changes, shared by every request (gateway/caches.py).
    caches: SharedCaches

    @classmethod
    def connect(cls, settings: GatewaySettings) -> Upstreams:
        deadline = settings.upstream_deadline
        identity = IdentityClient(settings.identity_address, deadline=deadline)
        # The gateway's own key: content and anonymity admit no other caller. Identity and
        # audit authorise by the user's token alone, so they get none.
        credentials = ServiceCredentials.load(
            "gateway", settings.data_dir, allow_dev=settings.environment == "dev"
        )
        return cls(
            identity=identity,
            anonymity=AnonymityClient(
                settings.anonymity_address,
                deadline=deadline,
                service_token=lambda: credentials.metadata(audience="anonymity"),
            ),
            content=ContentClient(
                settings.content_address,
                deadline=deadline,
                service_token=lambda: credentials.metadata(audience="content"),
            ),
            audit=AuditClient(settings.audit_address, deadline=deadline),
            authenticator=Authenticator(identity),
            caches=SharedCaches.from_settings(settings),
        )

    def health_targets(self) -> list[tuple[str, Any, str]]:
        """(name, client, gRPC health service) for each upstream `/readyz` asks."""
        return [
            ("identity", self.identity, "consilium.identity.v1.IdentityService"),
            ("anonymity", self.anonymity, "consilium.anonymity.v1.AnonymityService"),
            ("content", self.content, "consilium.content.v1.ContentService"),
            ("audit", self.audit, "consilium.audit.v1.AuditService"),
        ]

    async def close(self) -> None:
        for client in (self.identity, self.anonymity, self.content, self.audit):
            await client.close()
