"""Errors as clients see them: `extensions.code` and field violations; everything else masked."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from graphql.error import GraphQLError
from opentelemetry import trace
from strawberry.extensions import MaskErrors

from plumbing.errors import DomainError, ErrorCode, RateLimited
from plumbing.outages import as_unavailable

log = logging.getLogger("consilium.gateway.errors")

#: The one table from domain error codes to GraphQL `extensions.code`.
GRAPHQL_CODES: dict[ErrorCode, str] = {
    ErrorCode.INVALID_ARGUMENT: "BAD_USER_INPUT",
    ErrorCode.NOT_FOUND: "NOT_FOUND",
    ErrorCode.ALREADY_EXISTS: "ALREADY_EXISTS",
    ErrorCode.UNAUTHENTICATED: "UNAUTHENTICATED",
    ErrorCode.PERMISSION_DENIED: "FORBIDDEN",
    ErrorCode.FAILED_PRECONDITION: "FAILED_PRECONDITION",
    ErrorCode.UNAVAILABLE: "UNAVAILABLE",
    ErrorCode.RATE_LIMITED: "RATE_LIMITED",
    ErrorCode.INTERNAL: "INTERNAL_SERVER_ERROR",
}


#: graphql-core's hints ("Did you mean 'first'?") on unknown arguments, types, enum values and
#: input fields. Strawberry's `disable_field_suggestions` strips them from unknown fields only,
#: and the rest would let anyone map the schema that production keeps from introspection.
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


def _trace_id() -> str:
    """The current trace id; without tracing, a fresh random one, so there is always an id
    for the client to quote that the log line carries too."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else secrets.token_hex(16)


class ShapeErrors(MaskErrors):
    """Domain errors keep their (personal-data-free) message, with a code and the bad fields.

    GraphQL's own errors (syntax, validation, bad variables) pass with GRAPHQL_VALIDATION_FAILED,
    without "Did you mean" hints when the schema turns suggestions off (production).
    Anything else is a bug: logged with the trace id, and the client gets only that id. So is
    a DomainError left at INTERNAL: no one wrote its text for clients.
    """

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._shape(error) for error in errors]

    def _process_result(self, result: object) -> None:
        # As MaskErrors does, without its isinstance check against a runtime Protocol
        # (≈25 µs): it runs for every result, once per subscriber of a live event.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _shape(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        # A store or broker the gateway itself reaches (subscriptions' Kafka) being away is
        # an outage, not a bug: UNAVAILABLE, which clients may retry.
        if original is not None and not isinstance(original, DomainError):
            original = as_unavailable(original) or original
        extensions: dict[str, Any]
        if isinstance(original, DomainError) and original.code is not ErrorCode.INTERNAL:
            message = original.message
            extensions = {"code": GRAPHQL_CODES[original.code]}
            if original.violations:
                extensions["fieldViolations"] = [
                    {"field": v.field, "description": v.description} for v in original.violations
                ]
            if isinstance(original, RateLimited):
                # Seconds, as the HTTP Retry-After header the view adds (gateway/view.py).
                extensions["retryAfter"] = original.retry_after
        elif original is None or (isinstance(original, GraphQLError) and error.path is None):
            # Pathless errors come before execution; graphql-core wraps a variable's coercion
            # error (an unknown enum value, a missing input field, "Int cannot represent ...")
            # in another GraphQLError: the client's input, not a bug.
            message = error.message
            if self.execution_context.schema.config.disable_field_suggestions:
                message = _SUGGESTION.sub("", message)
            # Our own rules may add figures (the cost limit's `cost` and `limit`); keep them.
            extensions = {"code": "GRAPHQL_VALIDATION_FAILED", **(error.extensions or {})}
        else:
            trace_id = _trace_id()
            log.error(
                "unexpected error resolving %s (trace %s)", error.path, trace_id, exc_info=original
            )
            message = "Unexpected error; quote the trace id when you report it."
            extensions = {"code": "INTERNAL_SERVER_ERROR", "traceId": trace_id}
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions=extensions,
        )
