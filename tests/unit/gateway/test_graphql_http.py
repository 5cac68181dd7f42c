"""GraphQL over HTTP's response rules: media type negotiation and request errors as 400."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.graphql_http import GRAPHQL_RESPONSE, JSON, is_request_error, negotiate, shape


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("text/html", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}; charset=utf-8", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{JSON};q=0.9, {GRAPHQL_RESPONSE};q=0.8", JSON),
        (f"{GRAPHQL_RESPONSE};q=0", JSON),
        (f"{GRAPHQL_RESPONSE};q=nonsense, {JSON}", JSON),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", GRAPHQL_RESPONSE),
    ],
)
def test_negotiate_prefers_graphql_response_json_only_when_asked(
    accept: str | None, expected: str
) -> None:
    assert negotiate(accept) == expected


VALIDATION = {"data": None, "errors": [{"message": "Cannot query field 'nope'"}]}
FIELD = {"data": None, "errors": [{"message": "down", "path": ["feed"]}]}
PARTIAL = {"data": {"feed": None}, "errors": [{"message": "down", "path": ["feed"]}]}
OK = {"data": {"communities": []}}


@pytest.mark.parametrize(
    ("response", "expected"),
    [(VALIDATION, True), (FIELD, False), (PARTIAL, False), (OK, False), ([VALIDATION], False)],
)
def test_request_errors_are_pathless_errors_without_data(response: Any, expected: bool) -> None:
    assert is_request_error(response) is expected


def test_shape_drops_data_and_answers_400_only_for_request_errors_under_graphql_response() -> None:
    assert shape(VALIDATION, GRAPHQL_RESPONSE) == ({"errors": VALIDATION["errors"]}, 400)
    assert shape(VALIDATION, JSON) == (VALIDATION, 200)
    assert shape(FIELD, GRAPHQL_RESPONSE) == (FIELD, 200)
    assert shape(PARTIAL, GRAPHQL_RESPONSE) == (PARTIAL, 200)


def test_answers_are_plain_utf8_json_and_any_integer_still_encodes() -> None:
    from gateway.view import ConsiliumGraphQL

    answer = {"data": {"handle": "Zoë 🩺", "count": 3, "none": None}}
    body = ConsiliumGraphQL.encode_json(None, answer)  # type: ignore[arg-type]
    assert json.loads(body) == answer
    assert "Zoë 🩺".encode() in body  # UTF-8 as it is, not \u-escaped
    huge = {"data": {"n": 2**70}}  # past orjson's 64 bits: json.dumps writes it
    assert json.loads(ConsiliumGraphQL.encode_json(None, huge)) == huge  # type: ignore[arg-type]
