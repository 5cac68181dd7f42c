"""Parsed documents kept process-wide, so a frontend's few dozen operations parse once."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from graphql import GraphQLError, parse
from strawberry.extensions import SchemaExtension


def parse_cache(maxsize: int) -> Callable[[], SchemaExtension]:
    """A factory of per-request extensions sharing one bounded cache of parsed documents,
    keyed by the document's text and parse options (the token limit): nothing of a viewer's.

    Strawberry's own ParserCache raises a syntax error from inside the extension, where it
    reaches the client without its code; here a document that does not parse is left to
    strawberry's parse step, which reports it as it always has (and is not cached)."""
    cached = lru_cache(maxsize=maxsize)(parse)

    class DocumentCache(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            context = self.execution_context
            if context.graphql_document is None and context.query:
                options: Any = context.parse_options
                with contextlib.suppress(GraphQLError):
                    context.graphql_document = cached(context.query, **options)
            yield

    return DocumentCache
