"""GraphQL over HTTP's response rules: which media type answers, and how request errors look.

The spec (graphql.github.io/graphql-over-http) has two response media types. Under
`application/json` every well-formed request answers 200, errors in the body, as clients
before the spec expect. Under `application/graphql-response+json` the status tells a
*request error* (the document does not parse or validate, or the variables do not coerce:
nothing ran) from a *field error* (execution ran, partial data): a request error answers 400
with no `data` entry at all, a field error 200 with `data`.
"""

from __future__ import annotations

from typing import Any

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def negotiate(accept: str | None) -> str:
    """The media type to answer with: `application/graphql-response+json` when the client
    lists it at least as high as `application/json`, else `application/json`.

    No Accept header, or only wildcards, means `application/json`: the spec asks servers to
    answer legacy clients, which send neither, the way they always were answered.
    """
    if not accept:
        return JSON
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        media = media.lower()
        weights[media] = max(weight, weights.get(media, 0.0))
    preferred = weights.get(GRAPHQL_RESPONSE, 0.0)
    if preferred > 0 and preferred >= weights.get(JSON, 0.0):
        return GRAPHQL_RESPONSE
    return JSON


def is_request_error(response: Any) -> bool:
    """Whether a processed result is a request error: no data, and no error with a `path`.

    Every field error carries the path of its field (graphql-core sets it while executing),
    so errors without one were raised before execution: parsing, validation (depth, alias,
    token and cost limits are validation rules too) and variable coercion.
    """
    if not isinstance(response, dict) or response.get("data") is not None:
        return False
    errors = response.get("errors") or []
    return bool(errors) and all(not error.get("path") for error in errors)


def shape(response: Any, media_type: str) -> tuple[Any, int]:
    """The body and status code to send `response` (a processed result) with."""
    if media_type == GRAPHQL_RESPONSE and is_request_error(response):
        return {k: v for k, v in response.items() if k != "data"}, 400
    return response, 200
