"""Full-text search behind one interface: SQLite FTS5 or PostgreSQL tsvector, by dialect.

Both index the title, the body and the case facts (kept in sync by the database itself:
FTS5 triggers, a generated tsvector column; see migration 0001). Both understand the same
query language, that of PostgreSQL's `websearch_to_tsquery`: words (all must match),
"quoted phrases", `or` between alternatives and `-word` to exclude.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Float,
    String,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.sql import Subquery

from services.content.adapters.tables import posts

#: The FTS5 table the SQLite migration creates; not in `tables.metadata` (no DDL there).
_post_search = table("post_search", column("post_id"))
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


class FullTextSearch(Hashable, Protocol):
    """A subquery of (post_id, score) for the query bound as `:search`: higher scores match
    better. Built once; each search binds its own text."""

    matches: Subquery

    def parameter(self, query: str) -> str | None:
        """What to bind as `:search`; None when the query has no searchable words."""


def _quoted(words: list[str]) -> str:
    return '"' + " ".join(words) + '"'


def fts5_query(query: str) -> str | None:
    """The websearch-style `query` as an FTS5 expression; every term quoted, so user input
    can never be read as FTS5 syntax (column filters, NEAR, stray operators)."""
    parts: list[str] = []
    pending_or = False
    for match in _TOKEN.finditer(query):
        negated, phrase, bare = match.group(1) == "-", match.group(2), match.group(3)
        if bare is not None and bare.lower() == "or":
            pending_or = bool(parts)
            continue
        if bare is not None and bare.startswith("-") and len(bare) > 1:
            negated, bare = True, bare[1:]
        words = _WORD.findall(phrase if phrase is not None else bare or "")
        if not words:
            continue
        if negated:
            # FTS5's NOT is binary: an exclusion needs something before it to exclude from.
            if parts and not pending_or:
                parts.append("NOT " + _quoted(words))
            continue
        parts.append(("OR " if pending_or else "") + _quoted(words))
        pending_or = False
    return " ".join(parts) or None


class SqliteFullText:
    """FTS5 with bm25 ranking (negated, so that higher is better)."""

    def __init__(self) -> None:
        score = (-func.bm25(literal_column("post_search"))).label("score")
        # MATERIALIZED keeps SQLite from flattening bm25() into the outer query, where
        # FTS5 auxiliary functions are not allowed.
        cte = (
            select(_post_search.c.post_id, score)
            .select_from(_post_search)
            .where(text("post_search MATCH :search"))
            .cte("search_matches")
            .prefix_with("MATERIALIZED")
        )
        self.matches = select(cte.c.post_id, cte.c.score).subquery("matches")

    def parameter(self, query: str) -> str | None:
        return fts5_query(query)


class PostgresFullText:
    """A weighted tsvector column with a GIN index, ranked by cover density."""

    def __init__(self) -> None:
        tsquery = func.websearch_to_tsquery("english", bindparam("search", type_=String))
        vector: ColumnElement[Any] = literal_column("posts.search_vector")
        # double precision: ts_rank_cd is a float4, and cursors compare exact values.
        score = cast(func.ts_rank_cd(vector, tsquery), Float(precision=53)).label("score")
        self.matches = (
            select(posts.c.post_id.label("post_id"), score)
            .where(vector.op("@@")(tsquery))
            .subquery("matches")
        )

    def parameter(self, query: str) -> str | None:
        return query if _WORD.search(query) else None


def full_text_for(dialect: str) -> FullTextSearch:
    if dialect == "sqlite":
        return SqliteFullText()
    if dialect == "postgresql":
        return PostgresFullText()
    raise ValueError(f"no full-text search for the {dialect} dialect")
