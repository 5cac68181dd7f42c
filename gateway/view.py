"""Strawberry's ASGI view with our typed context, persisted documents and GraphQL over HTTP."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from gateway.context import GatewayContext
from gateway.graphql_http import JSON, negotiate, shape
from gateway.limits.admission import CODE as RATE_LIMITED
from gateway.limits.admission import Admission, admission_of
from gateway.limits.policy import GatewayLimits
from gateway.loaders import create_loaders
from gateway.persisted.operations import PersistedOperations
from gateway.persisted.view import Refused, is_signal, lookup_params, resolve_request
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings
from gateway.subscriptions.feed import LiveFeed
from gateway.subscriptions.websocket import AuthenticatingHandler
from gateway.upstreams import Upstreams


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

    def encode_json(self, data: object) -> bytes:
        """orjson: the feed's 40 kB answer in a tenth of json.dumps's time (~4% of the
        gateway's CPU for a feed page). UTF-8 as it is, not \\u-escaped; anything orjson
        refuses (an integer past 64 bits) is written by json.dumps as before."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return json.dumps(data, separators=(",", ":")).encode()

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
        wait = retry_after(body)
        if wait is not None:
            response.headers["retry-after"] = str(wait)
        return response


def retry_after(body: Any) -> int | None:
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
