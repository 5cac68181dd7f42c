"""Federation `_entities`: a malformed representation is the client's error, not an internal one."""

from __future__ import annotations

import re

import pytest

from gateway.schema.build import ENTITY_KEYS, build_schema
from gateway.settings import GatewaySettings

SCHEMA = build_schema(GatewaySettings())


@pytest.mark.parametrize(
    "representation",
    [
        '"x"',
        "{}",
        '{__typename: "Nope", id: "p"}',
        '{__typename: "Post"}',
        '{__typename: "Post", id: 5}',
        '{__typename: "Post", id: "p", extra: 1}',
        '{__typename: "Author", id: "p"}',
        '{__typename: "Community", id: "c"}',
        "[1, 2]",
    ],
)
async def test_a_malformed_representation_is_bad_user_input(representation: str) -> None:
    document = f"{{ _entities(representations: [{representation}]) {{ ... on Post {{ id }} }} }}"
    result = await SCHEMA.execute(document)
    assert result.errors
    (error,) = result.errors
    assert error.extensions is not None
    assert error.extensions["code"] == "BAD_USER_INPUT", error.message
    assert error.extensions["fieldViolations"][0]["field"] == "representations[0]"


def test_the_key_table_matches_the_schema() -> None:
    sdl = SCHEMA.as_str()
    keys = dict(re.findall(r'type (\w+) @key\(fields: "(\w+)"\)', sdl))
    assert keys == ENTITY_KEYS
