"""Persisted operations in the GraphQL view: request parameters in, a document or a refusal out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from graphql import GraphQLError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from gateway.persisted.operations import SIGNALS, PersistedOperations, PersistedRefusal

#: Where an id may come instead of a document: GraphQL over HTTP's `documentId`, the
#: `doc_id` of Relay's docs, and Apollo's extensions.persistedQuery (decoded by strawberry).
ID_PARAMS = ("documentId", "doc_id")


@dataclasses.dataclass
class Refused(GraphQLRequestData):
    """A request the view answers with `refusal` without parsing or executing anything."""

    refusal: PersistedRefusal | None = None

    def result(self) -> ExecutionResult:
        assert self.refusal is not None
        error = GraphQLError(self.refusal.message, extensions={"code": self.refusal.code})
        return ExecutionResult(data=None, errors=[error])


def lookup_params(params: Mapping[str, Any]) -> bool:
    """Whether raw GET parameters name a stored document (so the GET is no GraphiQL page
    load, even from a client that accepts `*/*`)."""
    extensions = params.get("extensions")
    return any(isinstance(params.get(name), str) for name in ID_PARAMS) or (
        isinstance(extensions, str) and "persistedQuery" in extensions
    )


def is_signal(response: Any) -> bool:
    """Whether a processed result is one of the persisted-query signals clients act on."""
    errors = response.get("errors") if isinstance(response, dict) else None
    if not isinstance(errors, list):
        return False
    return any((error.get("extensions") or {}).get("code") in SIGNALS for error in errors)


async def resolve_request(
    persisted: PersistedOperations,
    data: GraphQLRequestData,
    request: Any,
    parse_json: Callable[[str | bytes], Any],
) -> GraphQLRequestData:
    """`data` with the document to run, or Refused. A request with a `query` is judged by it
    (and its APQ hash); only one without reads the raw body again for `documentId`."""
    params: dict[str, Any] = {"query": data.query or None, "extensions": data.extensions}
    if not data.query:
        raw = (
            request.query_params
            if request.method == "GET"
            else parse_json(await request.get_body())
        )
        if isinstance(raw, Mapping):
            params.update({name: raw[name] for name in ID_PARAMS if name in raw})
    try:
        query = persisted.resolve(params)
    except PersistedRefusal as refusal:
        return Refused(
            query=None,
            variables=data.variables,
            operation_name=data.operation_name,
            extensions=data.extensions,
            protocol=data.protocol,
            refusal=refusal,
        )
    return dataclasses.replace(data, query=query)
