"""A document is parsed and validated once per process, whatever the number of requests;
what does not parse or validate is refused every time with its code."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.extensions import documents
from gateway.extensions.one_alias_write import OneAliasWritePerRequest
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    counts = {"parse": 0, "validate": 0}
    real_parse = documents.parse
    real_init = OneAliasWritePerRequest.__init__

    def parse(*args: Any, **kwargs: Any) -> Any:
        counts["parse"] += 1
        return real_parse(*args, **kwargs)

    def init(self: OneAliasWritePerRequest, *args: Any) -> None:
        counts["validate"] += 1  # one instance of each rule per validation run
        real_init(self, *args)

    monkeypatch.setattr(documents, "parse", parse)
    monkeypatch.setattr(OneAliasWritePerRequest, "__init__", init)
    return counts


async def test_the_same_document_is_parsed_and_validated_once(counted: dict[str, int]) -> None:
    schema = build_schema(GatewaySettings())
    # A text no other test sends: the validation cache is process-wide.
    document = "query DocumentCacheOnce { __typename }"
    for _ in range(3):
        result = await schema.execute(document)
        assert result.errors is None and result.data == {"__typename": "Query"}
    assert counted == {"parse": 1, "validate": 1}

    await schema.execute("query DocumentCacheOther { __typename }")
    assert counted == {"parse": 2, "validate": 2}


@pytest.mark.parametrize(
    "document",
    [
        "query DocumentCacheBroken { __typename",  # does not parse
        "query DocumentCacheUnknown { noSuchField }",  # parses, does not validate
    ],
)
async def test_a_bad_document_is_refused_every_time_with_its_code(document: str) -> None:
    schema = build_schema(GatewaySettings())
    for _ in range(2):
        result = await schema.execute(document)
        assert result.data is None and result.errors
        assert result.errors[0].extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}


async def test_an_affordable_price_is_kept_per_variables_and_never_lets_a_costlier_one_in() -> None:
    schema = build_schema(GatewaySettings(max_cost=100))  # type: ignore[call-arg]
    document = "query DocumentCachePriced($n: Int!) { feed(first: $n) { nodes { id } } }"
    for _ in range(2):  # affordable, then kept as affordable for these variables
        cheap = await schema.execute(document, variable_values={"n": 2})
        assert not any(e.extensions == {"code": "COST_LIMIT_EXCEEDED"} for e in cheap.errors or [])
    costly = await schema.execute(document, variable_values={"n": 500})
    assert costly.data is None and costly.errors
    assert costly.errors[0].extensions is not None
    assert costly.errors[0].extensions["code"] == "COST_LIMIT_EXCEEDED"
