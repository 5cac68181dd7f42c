"""The GraphQL operation label: one schema root field or a fixed word, never client text."""

from __future__ import annotations

import pytest
from graphql import parse

from gateway.extensions.metrics import error_code, root_field_label
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings

SCHEMA = build_schema(GatewaySettings())._schema


@pytest.mark.parametrize(
    ("query", "operation_name", "label"),
    [
        ("{ feed { nodes { id } } }", None, "feed"),
        # The client's operation name is free text (here a person's name): never the label.
        ('query DrJaneRoe123 { post(id: "p-1") { id } }', "DrJaneRoe123", "post"),
        ("mutation Mine { createPost(input: {}) { id } }", None, "createPost"),
        ("{ a: feed { nodes { id } } b: feed { nodes { id } } __typename }", None, "feed"),
        ("{ feed { nodes { id } } me { id } }", None, "multiple"),
        ("{ ...F } fragment F on Query { feed { nodes { id } } }", None, "multiple"),
        ("{ alice_at_example_org }", None, "unknown"),
        ("query A { feed { nodes { id } } } query B { me { id } }", None, "invalid"),
        ("query A { feed { nodes { id } } } query B { me { id } }", "B", "me"),
        ("query A { feed { nodes { id } } }", "Z", "invalid"),
        ("{ __typename }", None, "__typename"),
        ("{ __schema { types { name } } }", None, "__schema"),
    ],
)
def test_the_operation_label_is_a_root_field_of_the_schema(
    query: str, operation_name: str | None, label: str
) -> None:
    assert root_field_label(parse(query), operation_name, SCHEMA) == label


def test_a_document_that_did_not_parse_is_one_label() -> None:
    assert root_field_label(None, "anything", SCHEMA) == "invalid"


class _Error:
    def __init__(self, extensions: object) -> None:
        self.extensions = extensions


@pytest.mark.parametrize(
    ("extensions", "code"),
    [
        ({"code": "UNAUTHENTICATED"}, "UNAUTHENTICATED"),
        ({"code": "user 5f3a@x.org"}, "OTHER"),
        ({"code": "A" * 60}, "OTHER"),
        ({"code": 7}, "OTHER"),
        (None, "OTHER"),
    ],
)
def test_error_codes_are_ours_or_other(extensions: object, code: str) -> None:
    assert error_code(_Error(extensions)) == code
