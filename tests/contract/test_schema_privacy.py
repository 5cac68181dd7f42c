"""P4: no path in the GraphQL schema leads from content types to identity fields, except the
author persona's disclosed attributes (`Author.displayName`, shown only on IDENTIFIED posts)."""

from __future__ import annotations

from collections import deque

import strawberry
from graphql import GraphQLNamedType, GraphQLObjectType, GraphQLSchema, get_named_type

from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings

#: Field names that carry a person's identity, and the identity-side types.
IDENTITY_FIELDS = {"email", "npi", "fullName", "userId", "displayName"}
IDENTITY_TYPES = {"Viewer", "Physician", "AuthPayload"}
ALLOWED = {("Author", "displayName")}


def identity_paths(schema: GraphQLSchema, roots: tuple[str, ...]) -> list[str]:
    """Every path from `roots` that reaches an identity field or type (breadth first)."""
    leaks: list[str] = []
    seen: set[str] = set()
    queue: deque[tuple[GraphQLNamedType, str]] = deque()
    for root in roots:
        named = schema.get_type(root)
        assert named is not None, f"{root} is not in the schema"
        queue.append((named, root))
    while queue:
        named, path = queue.popleft()
        if named.name in seen:
            continue
        seen.add(named.name)
        if named.name in IDENTITY_TYPES:
            leaks.append(path)
            continue
        if not isinstance(named, GraphQLObjectType):
            continue
        for field_name, field in named.fields.items():
            here = f"{path}.{field_name}"
            if field_name in IDENTITY_FIELDS and (named.name, field_name) not in ALLOWED:
                leaks.append(here)
            queue.append((get_named_type(field.type), here))
    return leaks


def test_content_types_reach_no_identity_field() -> None:
    schema = build_schema(GatewaySettings())._schema
    assert identity_paths(schema, ("Post", "Comment", "PostConnection", "Author")) == []


@strawberry.type(name="Physician")
class _LeakyPhysician:
    full_name: str


@strawberry.type(name="Author")
class _LeakyAuthor:
    handle: str
    display_name: str | None
    person: _LeakyPhysician


@strawberry.type(name="Post")
class _LeakyPost:
    author: _LeakyAuthor
    email: str


@strawberry.type(name="Query")
class _LeakyQuery:
    post: _LeakyPost


def test_the_walk_finds_a_planted_leak() -> None:
    leaky = strawberry.Schema(query=_LeakyQuery)._schema
    assert sorted(identity_paths(leaky, ("Post",))) == ["Post.author.person", "Post.email"]
