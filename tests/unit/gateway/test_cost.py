"""The static cost rule: prices as IBM `@cost`/`@listSize` would, refuses over the limit."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, validate

from gateway.extensions.cost import CODE, cost_rule, operation_cost
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings

SCHEMA = build_schema(GatewaySettings())
PERSONA = "aliasId handle verifiedPhysician specialty displayName isViewer"
#: 15 aliased feeds of 50 posts, each with 50 comments and their authors.
FLOOD = (
    "{ "
    + " ".join(
        f"f{i}: feed(first: 50) {{ nodes {{ id author {{ handle }} "
        f"comments(first: 50) {{ nodes {{ body author {{ handle }} }} }} }} }}"
        for i in range(15)
    )
    + " }"
)


def cost(document: str, variables: dict[str, Any] | None = None) -> int:
    parsed = parse(document)
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    (operation,) = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    return operation_cost(SCHEMA._schema, operation, fragments, variables)


def refusals(document: str, limit: int, variables: dict[str, Any] | None = None) -> list[Any]:
    rule = cost_rule(limit, variables, 10)
    return [e.formatted for e in validate(SCHEMA._schema, parse(document), [rule])]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{ communities { id name } }", 10),  # unsized list: assumed size x object cost 1
        ("{ me { id roles } }", 1),  # scalars and enum lists cost nothing
        ("{ feed(first: 5) { nodes { id } } }", 1 + 5),
        ("{ feed { nodes { id } } }", 1 + 20),  # the argument's default
        ("{ feed(first: 5) { pageInfo { hasNextPage } nodes { author { handle } } } }", 2 + 10),
        # nested lists multiply: 2 posts x (post 1 + connection 1 + 3 comments x 2)
        (
            "{ feed(first: 2) { nodes { comments(first: 3) { nodes { author { handle } } } } } }",
            1 + 2 * (1 + 1 + 3 * 2),
        ),
        ("{ a: feed(first: 5) { nodes { id } } b: feed(first: 5) { nodes { id } } }", 12),
        ("{ ...F ...F } fragment F on Query { feed(first: 5) { nodes { id } } }", 12),
        ("{ ... on Query { feed(first: 5) { nodes { id } } } }", 6),
        ('mutation { login(email: "e", password: "p") { token viewer { id } } }', 10 + 2),
        ("{ __typename feed(first: 1) { __typename nodes { __typename } } }", 2),
    ],
)
def test_prices_follow_the_cost_spec(document: str, expected: int) -> None:
    assert cost(document) == expected


def test_variables_size_the_lists() -> None:
    document = "query($n: Int!) { feed(first: $n) { nodes { id } } }"
    assert cost(document, {"n": 40}) == 41
    # An unbound variable is priced at the argument's default, as the resolver would read it.
    assert cost(document, {}) == 21


def test_the_flood_of_the_issue_is_priced_in_full() -> None:
    # 15 x (connection + 50 x (post + author + connection + 50 x (comment + author)))
    assert cost(FLOOD) == 15 * (1 + 50 * (1 + 1 + 1 + 50 * 2))


def test_over_the_limit_names_the_cost_and_the_limit() -> None:
    (error,) = refusals("{ feed(first: 50) { nodes { id } } }", 50)
    assert error["extensions"] == {"code": CODE, "cost": 51, "limit": 50}
    assert "51" in error["message"] and "50" in error["message"]
    assert refusals("{ feed(first: 49) { nodes { id } } }", 50) == []


def test_each_operation_of_a_document_is_priced_alone() -> None:
    document = (
        "query A { feed(first: 30) { nodes { id } } } query B { feed(first: 30) { nodes { id } } }"
    )
    assert refusals(document, 40) == []


def test_cyclic_and_unknown_fragments_are_left_to_other_rules() -> None:
    assert cost("{ ...F } fragment F on Query { ...F communities { id } }") == 10
    assert cost("{ ...Missing nope { id } }") == 0


#: The biggest reads the tests, the demo and the README send must stay well under the default.
BIGGEST_KNOWN = [
    f"""query($aliases: [_Any!]!) {{
  feed(first: 50) {{ nodes {{ id title author {{ {PERSONA} }}
    comments(first: 50) {{ nodes {{ id body author {{ {PERSONA} }} }} }} }} }}
  _entities(representations: $aliases) {{ ... on Author {{ {PERSONA} }} }} }}""",
    """{ feed(first: 50) { nodes { id viewerIsAuthor author { isViewer }
  reactions { total viewerReaction } poll { viewerHasVoted totalVotes }
  comments(first: 20) { nodes { viewerIsAuthor author { isViewer } } } } } }""",
    "query($f: AuditFilter) { auditEvents(filter: $f, first: 200) { nodes { id } } }",
]


@pytest.mark.parametrize("document", BIGGEST_KNOWN)
def test_the_default_limit_lets_real_pages_through(document: str) -> None:
    settings = GatewaySettings()
    assert refusals(document, settings.max_cost) == []
    assert refusals(FLOOD, settings.max_cost) != []
