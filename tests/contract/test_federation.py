"""The gateway is an Apollo Federation v2 subgraph that Apollo's own composition accepts.

The SDL is what a router fetches (`{ _service { sdl } }` of the production schema); it is
composed with the locked `@apollo/composition` from tests/contract/federation/, installed once
outside the checkout by scripts/federation.sh.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from graphql import ObjectTypeDefinitionNode, StringValueNode, parse, print_ast

from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "federation.sh"

#: Every entity the subgraph offers a supergraph, with its key; a new entity belongs here.
ENTITY_KEYS = {"Post": "id", "Author": "aliasId"}

#: A second subgraph that redefines a field the gateway owns, with another type.
CONFLICTING_SUBGRAPH = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])
type Post @key(fields: "id") { id: ID! title: Int }
type Query { featured: Post }
"""


@dataclass(frozen=True)
class Composition:
    returncode: int
    errors: list[dict[str, Any]]
    hints: list[dict[str, Any]]
    supergraph_sdl: str | None

    @property
    def codes(self) -> set[str]:
        return {str(e["code"]) for e in self.errors}


def _compose(stdin: str = "", *subgraph_files: Path) -> Composition:
    """`scripts/federation.sh compose`: stdin is the subgraph "consilium", or each file one."""
    result = subprocess.run(
        ["bash", str(SCRIPT), "compose", *map(str, subgraph_files)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), f"federation.sh compose broke:\n{result.stderr}"
    try:
        out = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"compose printed no JSON ({exc}):\n{result.stdout}\n{result.stderr}"
        ) from exc
    return Composition(
        returncode=result.returncode,
        errors=out["errors"],
        hints=out["hints"],
        supergraph_sdl=out.get("supergraphSdl"),
    )


@pytest.fixture(scope="module")
def composer() -> None:
    """Installs the locked composition packages (a no-op once they are in the cache)."""
    result = subprocess.run(
        ["bash", str(SCRIPT), "install"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"scripts/federation.sh install failed:\n{result.stderr}"


@pytest.fixture(scope="module")
def subgraph_sdl() -> str:
    """What a router gets from `_service`; production, where introspection is off."""
    schema = build_schema(GatewaySettings(environment="production"))
    result = schema.execute_sync("{ _service { sdl } }")
    assert result.errors is None, result.errors
    assert result.data is not None
    sdl: str = result.data["_service"]["sdl"]
    return sdl


def _join_keys(supergraph_sdl: str) -> dict[str, list[tuple[str, str | None]]]:
    """Per object type, the (graph, key) of each `@join__type` the supergraph gives it."""
    keys: dict[str, list[tuple[str, str | None]]] = {}
    for definition in parse(supergraph_sdl).definitions:
        if not isinstance(definition, ObjectTypeDefinitionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value != "join__type":
                continue
            args = {a.name.value: a.value for a in directive.arguments or ()}
            key = args.get("key")
            keys.setdefault(definition.name.value, []).append(
                (
                    print_ast(args["graph"]),
                    key.value if isinstance(key, StringValueNode) else None,
                )
            )
    return keys


def test_the_subgraph_composes_without_errors(composer: None, subgraph_sdl: str) -> None:
    composed = _compose(subgraph_sdl)

    assert composed.errors == [], "\n".join(e["message"] for e in composed.errors)
    assert composed.hints == [], "\n".join(h["message"] for h in composed.hints)
    assert composed.returncode == 0
    assert composed.supergraph_sdl is not None
    assert '@link(url: "https://specs.apollo.dev/join/' in composed.supergraph_sdl


def test_post_and_author_are_the_entities_with_their_keys(
    composer: None, subgraph_sdl: str
) -> None:
    composed = _compose(subgraph_sdl)
    assert composed.supergraph_sdl is not None, composed.errors

    keys = _join_keys(composed.supergraph_sdl)
    entities = {name: graphs for name, graphs in keys.items() if any(k for _, k in graphs)}

    assert entities == {name: [("CONSILIUM", key)] for name, key in ENTITY_KEYS.items()}
    assert keys["Query"] == [("CONSILIUM", None)], "the root type is no entity"


@pytest.mark.parametrize(
    ("case", "expected_codes"),
    [
        ("conflicting subgraph", {"FIELD_TYPE_MISMATCH", "INVALID_FIELD_SHARING"}),
        ("key on a missing field", {"KEY_INVALID_FIELDS"}),
    ],
)
def test_composition_reports_broken_graphs(
    composer: None, subgraph_sdl: str, tmp_path: Path, case: str, expected_codes: set[str]
) -> None:
    """Negative control: the check above can fail, and says why."""
    if case == "conflicting subgraph":
        ours, other = tmp_path / "consilium.graphql", tmp_path / "other.graphql"
        ours.write_text(subgraph_sdl)
        other.write_text(CONFLICTING_SUBGRAPH)
        composed = _compose("", ours, other)
    else:
        key = '@key(fields: "aliasId")'
        assert key in subgraph_sdl, "the Author key moved: update this control"
        composed = _compose(subgraph_sdl.replace(key, '@key(fields: "alias")'))

    assert composed.returncode == 1
    assert composed.supergraph_sdl is None
    assert composed.codes == expected_codes, composed.errors
