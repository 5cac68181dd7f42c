"""Builds the schema with its extensions; dev and production differ only in what they reveal."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, Info

from gateway.extensions.cost import Affordable, CostLimiter
from gateway.extensions.documents import parse_cache
from gateway.extensions.errors import ShapeErrors
from gateway.extensions.metrics import OperationMetrics
from gateway.extensions.one_alias_write import OneAliasWritePerRequest
from gateway.extensions.telemetry import OperationSpan
from gateway.schema import leaves
from gateway.schema.direct import call_methods_directly
from gateway.schema.leaves import LeafFields
from gateway.schema.mutation import Mutation
from gateway.schema.query import Query
from gateway.schema.reports import ModerationQueries, ReportMutations
from gateway.schema.subscription import Subscription
from gateway.settings import GatewaySettings
from gateway.subscriptions.sharing import SharingExecutor
from plumbing.errors import FieldViolation, InvalidArgument

#: Distinct documents whose parse and validation are kept (frontends send a few dozen).
_DOCUMENTS_CACHED = 256

#: The federation entities and their one key field (`@key(fields: ...)` on each type).
ENTITY_KEYS = {"Author": "aliasId", "Post": "id"}


def _check_representations(representations: list[Any]) -> None:
    """Each representation is `{__typename, <key>}` of one of our entities. Strawberry would
    fail on anything else with an AttributeError, KeyError or TypeError: an internal error
    for what is the client's mistake."""
    for index, representation in enumerate(representations):
        type_name = representation.get("__typename") if isinstance(representation, dict) else None
        key = ENTITY_KEYS.get(type_name) if isinstance(type_name, str) else None
        if (
            key is None
            or set(representation) != {"__typename", key}
            or not isinstance(representation[key], str)
        ):
            expected = " or ".join(f'{{__typename: "{t}", {k}}}' for t, k in ENTITY_KEYS.items())
            raise InvalidArgument(
                [FieldViolation(f"representations[{index}]", f"must be {expected}")]
            )


class Executor(SharingExecutor, LeafFields):
    """Live subscribers share executions (gateway/subscriptions/sharing.py); every execution
    reads plain leaf fields without graphql-core's per-field detour (gateway/schema/leaves.py)."""


class ConsiliumSchema(strawberry.federation.Schema):
    """Strawberry logs every error with its full text; ShapeErrors already logs the unexpected
    ones (with trace ids, through the personal-data filter), and expected ones are not news."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        _check_representations(representations)
        return super().entities_resolver(info, representations)


def build_schema(settings: GatewaySettings) -> strawberry.federation.Schema:
    """The federation v2 subgraph; production turns introspection and suggestions off."""
    # The extra validation rules are built once per schema, not per request: the validation
    # cache keys on the rule classes, and a fresh class each request would never hit it.
    rules = [
        max_depth_rule(settings.max_depth, None, None),
        max_aliases_rule(settings.max_aliases),
        OneAliasWritePerRequest,
    ]
    affordable = Affordable(_DOCUMENTS_CACHED)
    # Factories, not instances: strawberry builds fresh extensions for every request.
    extensions: list[object] = [
        OperationMetrics,  # first: it reads errors after ShapeErrors gave them their codes
        OperationSpan,
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        # Process-wide and bounded, keyed by the document's text (and the rules): nothing
        # of a viewer's is in a parsed or validated document.
        parse_cache(_DOCUMENTS_CACHED),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=_DOCUMENTS_CACHED),
        lambda: CostLimiter(
            max_cost=settings.max_cost,
            assumed_list_size=settings.assumed_list_size,
            affordable=affordable,
        ),
        ShapeErrors,
    ]
    if not settings.dev:
        extensions.append(DisableIntrospection)
    schema = ConsiliumSchema(
        # Reports and the moderation queue live in their own module (gateway/schema/reports.py).
        query=merge_types("Query", (Query, ModerationQueries)),
        mutation=merge_types("Mutation", (Mutation, ReportMutations)),
        subscription=Subscription,
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(disable_field_suggestions=not settings.dev),
        # Strawberry's own, except that subscribers of a live event share one execution
        # where their answers are equal (gateway/subscriptions/sharing.py).
        execution_context_class=Executor,
    )
    call_methods_directly(schema)
    leaves.install(schema)  # after the rewiring: it reads the rewired methods too
    return schema
