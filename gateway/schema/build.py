"""Builds the schema with its extensions; dev and production differ only in what they reveal."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig

from gateway.extensions.errors import ShapeErrors
from gateway.extensions.telemetry import OperationSpan
from gateway.schema.mutation import Mutation
from gateway.schema.query import Query
from gateway.settings import GatewaySettings


def build_schema(settings: GatewaySettings) -> strawberry.federation.Schema:
    """The federation v2 subgraph; production turns introspection and suggestions off."""
    # Factories, not instances: strawberry builds fresh extensions for every request.
    extensions: list[object] = [
        OperationSpan,
        lambda: QueryDepthLimiter(max_depth=settings.max_depth),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        ShapeErrors,
    ]
    if not settings.dev:
        extensions.append(DisableIntrospection)
    return strawberry.federation.Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(disable_field_suggestions=not settings.dev),
    )
