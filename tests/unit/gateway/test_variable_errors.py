"""Bad variables are the client's error (GRAPHQL_VALIDATION_FAILED), never an internal one."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings

CREATE = "mutation($input: CreatePostInput!) { createPost(input: $input) { id } }"
REACT = 'mutation($r: Reaction!) { react(postId: "p", reaction: $r) { id } }'
CASE = {"sex": "MALE", "presentingComplaint": "cough", "question": "next?"}


def _create(case: dict[str, Any]) -> dict[str, Any]:
    return {"input": {"kind": "CASE", "community": "c", "title": "t", "case": case}}


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (CREATE, _create({**CASE, "ageBand": "AGE_40_49"})),  # an enum value we never had
        (REACT, {"r": "NOPE"}),
        (REACT, {"r": 3}),
        (CREATE, _create({**CASE, "ageBand": "CHILD", "surprise": 1})),  # unknown input field
        (CREATE, {"input": "not an object"}),
    ],
)
@pytest.mark.parametrize("environment", ["dev", "production"])
async def test_a_bad_variable_is_a_validation_error(
    document: str, variables: dict[str, Any], environment: str
) -> None:
    schema = build_schema(GatewaySettings(environment=environment))  # type: ignore[arg-type]
    result = await schema.execute(document, variable_values=variables)
    assert result.data is None
    assert result.errors
    for error in result.errors:
        assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
        assert "$" in error.message  # names the variable, so the client can fix it
        if environment == "production":
            assert "Did you mean" not in error.message
