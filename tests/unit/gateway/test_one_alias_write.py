"""The validation rule: at most one alias-bearing write per operation, fragments included."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from gateway.extensions.one_alias_write import MESSAGE, OneAliasWritePerRequest
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings

REACT = 'react(postId: "p", reaction: LIKE) { id }'
VOTE = 'votePoll(postId: "p", option: 0) { viewerHasVoted }'
COMMENT = 'addComment(input: {postId: "p", body: "x"}) { id }'
CREATE = 'createPost(input: {kind: DISCUSSION, community: "c", title: "t"}) { id }'


def errors(document: str) -> list[str]:
    schema = build_schema(GatewaySettings())._schema
    return [e.message for e in validate(schema, parse(document), [OneAliasWritePerRequest])]


@pytest.mark.parametrize(
    "document",
    [
        f"mutation {{ a: {REACT} b: {REACT} }}",
        f"mutation {{ {REACT} {VOTE} }}",
        f"mutation {{ {CREATE} {COMMENT} }}",
        f"mutation {{ ... on Mutation {{ {REACT} }} {VOTE} }}",
        f"mutation {{ ...F {REACT} }} fragment F on Mutation {{ {COMMENT} }}",
        f"mutation {{ ...F ...F }} fragment F on Mutation {{ {REACT} }}",
        f'mutation($s: Boolean!) {{ {REACT} b: react(postId: "q", reaction: LIKE) '
        "@include(if: $s) { id } }",
    ],
)
def test_two_alias_bearing_writes_are_refused(document: str) -> None:
    assert errors(document) == [MESSAGE]


#: An author's changes act under the alias the record was written under: alias writes too.
AUTHOR_WRITES = [
    'markCaseSolved(postId: "p", resolution: "r") { id }',
    'editPost(postId: "p", title: "t", body: "b") { id }',
    'editComment(commentId: "c", body: "b") { id }',
    'deletePost(postId: "p")',
    'deleteComment(commentId: "c") { id }',
    'retractReaction(postId: "p") { id }',
]


@pytest.mark.parametrize("write", AUTHOR_WRITES)
def test_an_authors_change_counts_as_an_alias_bearing_write(write: str) -> None:
    assert errors(f"mutation {{ {write} }}") == []
    assert errors(f"mutation {{ {write} {REACT} }}") == [MESSAGE]
    assert errors(f"mutation {{ a: {write} b: {write} }}") == [MESSAGE]


@pytest.mark.parametrize(
    "document",
    [
        f"mutation {{ {REACT} }}",
        f'mutation {{ {CREATE} login(email: "e", password: "p") {{ token }} }}',
        f"query {{ communities {{ id }} }} mutation M {{ {VOTE} }} mutation N {{ {REACT} }}",
    ],
)
def test_one_write_per_operation_passes(document: str) -> None:
    assert errors(document) == []
