"""Relay connections: `PageInfo` and the edge type every list shares, from content's pages.

Clients built on Relay (`ConnectionHandler`) and Apollo (`relayStylePagination`) read
`edges { cursor node }` and `pageInfo`; others read `nodes`. Every edge's cursor is that
item's keyset position at content, so `after` any cursor of a page continues right after
that item, and the pages join without gaps or repeats while new rows arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.type(
    description="Where a page sits in its list (the Relay cursor connections spec). "
    "The lists page forward (`first`/`after`) only."
)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor (null for an empty page): pass as `after` for the "
        "next page."
    )
    has_previous_page: bool = strawberry.field(
        default=False,
        description="Always false: these lists page forward only, and the Relay spec lets a "
        "server answer false when it cannot tell cheaply; paging back means starting again.",
    )
    start_cursor: str | None = strawberry.field(
        default=None, description="The first edge's cursor (null for an empty page)."
    )

    @classmethod
    def of(cls, cursors: Sequence[str], has_next_page: bool) -> PageInfo:
        return cls(
            has_next_page=has_next_page,
            end_cursor=cursors[-1] if cursors else None,
            start_cursor=cursors[0] if cursors else None,
        )


@strawberry.type(description="One item of a page and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="This item's position: pass as `after` for the items after it."
    )
    node: T


def edges(nodes: Sequence[T], cursors: Sequence[str]) -> list[Edge[T]]:
    """Pairs each node with its cursor; content sends one cursor per item, in order."""
    return [Edge(cursor=c, node=n) for n, c in zip(nodes, cursors, strict=True)]
