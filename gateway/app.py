"""The gateway's Starlette app: GraphQL over HTTP and WebSocket, health, limits, the live feed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from gateway.auth import Authenticator
from gateway.caches import SharedCaches
from gateway.clients.anonymity import AnonymityClient
from gateway.clients.audit import AuditClient
from gateway.clients.content import ContentClient
from gateway.clients.identity import IdentityClient
from gateway.context import GatewayContext
from gateway.graphql_http import JSON, negotiate, shape
from gateway.health import healthz, readyz
from gateway.limits.admission import CODE as RATE_LIMITED
from gateway.limits.admission import Admission, AdmissionControl, admission_of
from gateway.limits.idempotency import Idempotency
from gateway.limits.policy import GatewayLimits
from gateway.loaders import create_loaders
from gateway.persisted.operations import PersistedOperations
from gateway.persisted.view import Refused, is_signal, lookup_params, resolve_request
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings
from gateway.subscriptions.feed import LiveFeed
from gateway.subscriptions.websocket import AuthenticatingHandler
from gateway.tracing import TraceBoundary
from plumbing.auth.service import ServiceCredentials
from plumbing.events.factory import create_bus
from plumbing.metrics.instruments import GRAPHQL_ERRORS
from plumbing.metrics.serving import serving_metrics


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
        return [
            ("identity", self.identity, "consilium.identity.v1.IdentityService"),
            ("anonymity", self.anonymity, "consilium.anonymity.v1.AnonymityService"),
            ("content", self.content, "consilium.content.v1.ContentService"),
            ("audit", self.audit, "consilium.audit.v1.AuditService"),
        ]

    async def close(self) -> None:
        for client in (self.identity, self.anonymity, self.content, self.audit):
            await client.close()


class ConsiliumGraphQL(GraphQL[GatewayContext, None]):
    """Strawberry's ASGI view with our typed context and GraphQL over HTTP's response rules.

    WebSockets speak graphql-transport-ws only (the legacy graphql-ws protocol has no
    standard place for the token); one context serves a connection's whole life.
    """

    graphql_transport_ws_handler_class = AuthenticatingHandler

    def __init__(
        self,
        settings: GatewaySettings,
        upstreams: Upstreams,
        feed: LiveFeed,
        limits: GatewayLimits,
        persisted: PersistedOperations,
    ) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.dev else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.connection_init_timeout),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self._settings = settings
        self._upstreams = upstreams
        self._feed = feed
        self._limits = limits
        self.persisted = persisted

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GatewayContext:
        admission = admission_of(request.scope)
        if admission is None:  # a WebSocket: admitted by its connection_init (subscriptions)
            auth = await self._upstreams.authenticator.authenticate(
                request.headers.get("authorization")
            )
            peer = request.client.host if request.client else None
            forwarded = request.headers.getlist("x-forwarded-for")
            admission = Admission(auth, self._limits.addresses.resolve(peer, forwarded))
        auth = admission.auth
        return GatewayContext(
            request=request,
            response=response,
            auth=auth,
            client_address=admission.client_address,
            limits=self._limits,
            upstreams=self._upstreams,
            loaders=create_loaders(
                self._upstreams.anonymity,
                self._upstreams.content,
                auth.viewer,
                identity=self._upstreams.identity,
                caches=self._upstreams.caches,
            ),
            settings=self._settings,
            feed=self._feed,
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        # Negotiated once, here, where the request is at hand; create_response has only this.
        sub_response.media_type = negotiate(request.headers.get("accept"))
        return sub_response

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming a stored document has no `query`, yet it is no page load.
        return super().should_render_graphql_ide(request) and not lookup_params(
            request.query_params
        )

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The request's own document, or the trusted/APQ one its id names (gateway/persisted/)."""
        data = await super().parse_http_body(request)
        if isinstance(data, list):  # batching is off: strawberry refused the list already
            return data
        return await resolve_request(self.persisted, data, request, self.parse_json)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: GatewayContext,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        if isinstance(request_data, Refused):  # nothing parsed, nothing called upstream
            return request_data.result()
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """The result as GraphQL over HTTP asks (gateway/graphql_http.py): a request error
        under application/graphql-response+json is a 400 without `data`."""
        media_type = sub_response.media_type or JSON
        body, status = shape(response_data, media_type)
        response = super().create_response(body, sub_response)
        response.headers["content-type"] = media_type
        if is_signal(response_data):
            # Apollo's link retries on these; never a 4xx a client's error handling may eat,
            # never cached (the document is about to be registered).
            response.headers["cache-control"] = "no-store"
        elif status != 200:
            response.status_code = status
        wait = _retry_after(body)
        if wait is not None:
            response.headers["retry-after"] = str(wait)
        return response


def _retry_after(body: Any) -> int | None:
    """The longest `retryAfter` among RATE_LIMITED errors, for the HTTP `Retry-After`."""
    errors = body.get("errors") if isinstance(body, dict) else None
    waits = [
        e["extensions"]["retryAfter"]
        for e in errors or ()
        if isinstance(e, dict)
        and isinstance(e.get("extensions"), dict)
        and e["extensions"].get("code") == RATE_LIMITED
        and isinstance(e["extensions"].get("retryAfter"), int)
    ]
    return max(waits) if waits else None


class RequestLimits:
    """Refuses bodies over `max_body_bytes` (413) and answers 504 past `timeout` seconds."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _error(413, "PAYLOAD_TOO_LARGE", self._too_large())(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body_bytes:
                raise _BodyTooLarge
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            async with asyncio.timeout(self.timeout):
                await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _error(413, "PAYLOAD_TOO_LARGE", self._too_large())(scope, receive, send)
        except TimeoutError:
            if not started:
                message = f"the request took longer than {self.timeout:g}s and was stopped"
                await _error(504, "TIMEOUT", message)(scope, receive, send)

    def _too_large(self) -> str:
        return f"request body over {self.max_body_bytes} bytes; send a smaller query"


class _BodyTooLarge(Exception):
    pass


def _error(status: int, code: str, message: str) -> JSONResponse:
    # Refused before GraphQL ran, so the operation metrics never see it: counted here.
    GRAPHQL_ERRORS.labels(code).inc()
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status)


def create_app(
    settings: GatewaySettings,
    upstreams: Upstreams | None = None,
    limits: GatewayLimits | None = None,
) -> Starlette:
    """The ASGI app; pass `upstreams` to share clients and `limits` to drive their clocks
    (tests), otherwise they are created. Raises ManifestError for a persisted manifest that
    does not verify."""
    persisted = PersistedOperations.from_settings(settings)
    shared = upstreams or Upstreams.connect(settings)
    limits = limits or GatewayLimits.from_settings(settings)
    feed = LiveFeed(
        create_bus(
            kafka_bootstrap=settings.kafka_bootstrap,
            data_dir=settings.data_dir,
            client_id="consilium-gateway",
        ),
        shared.content,
        shared.anonymity,
        caches=shared.caches,
        buffer=settings.subscription_buffer,
        max_subscribers=settings.max_subscriptions,
        # Dev's embedded bus has no operator to create topics; on Kafka, ops (or the
        # chart's hook) runs `consilium topics create`.
        ensure_topic=not settings.kafka_bootstrap,
    )
    graphql = ConsiliumGraphQL(settings, shared, feed, limits, persisted)
    # Outermost first: body size and time, then who is asking (and anonymous budgets), then
    # idempotent retries, then GraphQL.
    admitted = AdmissionControl(
        Idempotency(graphql, limits.idempotency),
        authenticator=shared.authenticator,
        addresses=limits.addresses,
        anonymous=limits.anonymous,
    )
    limited = RequestLimits(
        admitted, max_body_bytes=settings.max_body_bytes, timeout=settings.request_timeout
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.upstreams = shared
        async with serving_metrics("gateway", settings.host, settings.metrics_port) as metrics:
            app.state.metrics = metrics
            await feed.start()
            try:
                yield
            finally:
                await feed.stop()
                if upstreams is None:
                    await shared.close()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", TraceBoundary(limited), methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        lifespan=lifespan,
    )
    app.state.upstreams = shared
    return app
