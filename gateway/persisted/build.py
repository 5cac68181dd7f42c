"""Builds a trusted-documents manifest from `.graphql` files, each operation checked against
the gateway's schema: one entry per operation, with the fragments it uses, in a stable order."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    Node,
    OperationDefinitionNode,
    Source,
    parse,
    print_ast,
    validate,
    visit,
)
from graphql.language import Visitor

from gateway.persisted.manifest import APOLLO_FORMAT, APOLLO_VERSION, sha256_hex

Format = Literal["apollo", "map"]


class BuildError(ValueError):
    """The documents cannot go into a manifest; each line names a file and line."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One manifest entry: a named operation and the fragments it spreads, printed."""

    name: str
    type: str
    body: str

    @property
    def id(self) -> str:
        return sha256_hex(self.body)


def graphql_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and every `*.graphql` under the directories named, sorted."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.rglob("*.graphql") if p.is_file())
        elif path.is_file():
            found.add(path)
        else:
            raise BuildError(f"{path}: no such file or directory")
    if not found:
        raise BuildError("no .graphql files found in " + ", ".join(map(str, paths)))
    return sorted(found)


def build_operations(files: Iterable[Path], schema: GraphQLSchema) -> list[Operation]:
    """Every operation of `files`, validated; raises BuildError with all problems found."""
    operations: dict[str, OperationDefinitionNode] = {}
    fragments: dict[str, FragmentDefinitionNode] = {}
    problems: list[str] = []
    for path in files:
        try:
            document = parse(Source(path.read_text(encoding="utf-8"), str(path)))
        except GraphQLError as exc:
            problems.append(_where(exc, str(path)) + exc.message)
            continue
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                _add(fragments, definition.name.value, definition, "fragment", problems)
            elif isinstance(definition, OperationDefinitionNode):
                if definition.name is None:
                    problems.append(_at(definition) + "an operation needs a name in a manifest")
                else:
                    _add(operations, definition.name.value, definition, "operation", problems)
    built = []
    for name in sorted(operations):
        operation = operations[name]
        used = _fragments_used(operation, fragments, problems)
        document = DocumentNode(definitions=(operation, *(fragments[f] for f in sorted(used))))
        errors = validate(schema, document)
        problems.extend(_where(error, "?") + error.message for error in errors)
        if not errors:
            built.append(Operation(name, operation.operation.value, print_ast(document)))
    if problems:
        raise BuildError("\n".join(problems))
    return built


def manifest(operations: list[Operation], fmt: Format) -> dict[str, Any]:
    """The manifest in Apollo's format or as Relay's / The Guild's `{id: body}` map."""
    if fmt == "map":
        return {op.id: op.body for op in sorted(operations, key=lambda op: op.id)}
    return {
        "format": APOLLO_FORMAT,
        "version": APOLLO_VERSION,
        "operations": [
            {"id": op.id, "name": op.name, "type": op.type, "body": op.body}
            for op in sorted(operations, key=lambda op: op.name)
        ],
    }


def dumps(data: dict[str, Any]) -> str:
    """Deterministic JSON: the same files give the same bytes (reviewable diffs)."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _add(table: dict[str, Any], name: str, node: Node, kind: str, problems: list[str]) -> None:
    if name in table:
        problems.append(_at(node) + f"{kind} {name} is also defined at {_at(table[name])[:-2]}")
    else:
        table[name] = node


def _fragments_used(
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    problems: list[str],
) -> set[str]:
    used: set[str] = set()
    pending: list[Node] = [operation]
    while pending:
        spreads = _Spreads()
        visit(pending.pop(), spreads)
        for spread in spreads.found:
            name = spread.name.value
            if name in used:
                continue
            if name not in fragments:
                problems.append(_at(spread) + f"unknown fragment {name}")
                continue
            used.add(name)
            pending.append(fragments[name])
    return used


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[FragmentSpreadNode] = []

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.found.append(node)


def _at(node: Node) -> str:
    """`file:line: ` of a node (every node knows the file it was parsed from)."""
    loc = node.loc
    if loc is None:
        return ""
    line = loc.source.get_location(loc.start).line
    return f"{loc.source.name}:{line}: "


def _where(error: GraphQLError, fallback: str) -> str:
    if error.nodes:
        return _at(error.nodes[0])
    if error.source is not None and error.locations:
        return f"{error.source.name}:{error.locations[0].line}: "
    return f"{fallback}: "
