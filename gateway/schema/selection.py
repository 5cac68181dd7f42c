"""What a query selects of posts, read ahead from its selection set so one fetch serves a page.

Strawberry resolves a field at a time; a page of posts asked field by field costs an awaited
resolver per field (≈24 µs each before any I/O). Reading the selection once, where the posts
are resolved, tells which batched calls the page needs: a field not selected costs no call.
The walk goes through fragments (named and inline) and aliases, and honours `@skip` and
`@include`, so what it reads is what graphql-core will resolve.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: `Post.comments(first:)` when the query gives none.
COMMENTS_FIRST = 20


@dataclass(slots=True)
class CommentsShape:
    """What one page of comments (one `first`/`after` pair) shows of its authors."""

    personas: bool = False
    owned: bool = False


@dataclass(slots=True)
class PostShape:
    """The fields of posts a selection resolves that need an upstream call."""

    community: bool = False
    follows: bool = False
    personas: bool = False
    #: Whether the viewer wrote the post (`viewerIsAuthor`, `author { isViewer }`).
    owned: bool = False
    comment_count: bool = False
    #: (first, after) -> what that page shows: each argument pair is its own page.
    comments: dict[tuple[int, str], CommentsShape] = field(default_factory=dict)
    reactions: bool = False
    viewer_reaction: bool = False
    poll: bool = False


def _included(selection: Any) -> bool:
    directives = getattr(selection, "directives", None) or {}
    if "skip" in directives and directives["skip"].get("if"):
        return False
    return not ("include" in directives and not directives["include"].get("if"))


def fields(selections: Iterable[Any], on: str | None = None) -> Iterator[Any]:
    """The fields of one level, fragments flattened; with `on`, only fragments on that type
    (or without a type condition) count, as in `_entities`, which mixes types."""
    for selection in selections:
        if not _included(selection):
            continue
        if hasattr(selection, "arguments"):  # a field
            yield selection
            continue
        condition = getattr(selection, "type_condition", None)
        if on is None or condition is None or condition == on:
            yield from fields(selection.selections, on)


def names(selections: Iterable[Any]) -> set[str]:
    """Every field name anywhere under `selections`."""
    found: set[str] = set()
    for selected in fields(selections):
        found.add(selected.name)
        found |= names(selected.selections)
    return found


def post_shape(selections: Iterable[Any], shape: PostShape | None = None) -> PostShape:
    """Adds what `selections` (the fields of a Post) need to `shape`."""
    shape = shape or PostShape()
    for selected in fields(selections):
        name, under = selected.name, selected.selections
        if name == "community":
            shape.community = True
            shape.follows |= "viewerFollows" in names(under)
        elif name == "author":
            shape.personas = True
            shape.owned |= "isViewer" in names(under)
        elif name == "viewerIsAuthor":
            shape.owned = True
        elif name == "commentCount":
            shape.comment_count = True
        elif name == "comments":
            first = selected.arguments.get("first")
            after = selected.arguments.get("after")
            key = (COMMENTS_FIRST if first is None else int(first), after or "")
            page = shape.comments.setdefault(key, CommentsShape())
            shown = names(under)
            page.personas |= "author" in shown
            page.owned |= bool({"viewerIsAuthor", "isViewer"} & shown)
        elif name == "reactions":
            shape.reactions = True
            shape.viewer_reaction |= "viewerReaction" in names(under)
        elif name == "poll":
            shape.poll = True
    return shape


def connection_shape(selections: Iterable[Any], shape: PostShape | None = None) -> PostShape:
    """What a PostConnection's selection needs of its posts (`nodes` and `edges { node }`)."""
    shape = shape or PostShape()
    for selected in fields(selections):
        if selected.name == "nodes":
            post_shape(selected.selections, shape)
        elif selected.name == "edges":
            for inner in fields(selected.selections):
                if inner.name == "node":
                    post_shape(inner.selections, shape)
    return shape


def under(selected_fields: Iterable[Any], on: str | None = None) -> list[Any]:
    """The fields under the resolving field (`info.selected_fields`: the field itself, more
    than one node of it when a query repeats it); `on` as in `fields`."""
    return [f for root in selected_fields for f in fields(root.selections, on)]
