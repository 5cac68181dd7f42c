"""Whether readers see a post or comment: the one rule the schema and the live feed share.

Content returns hidden and deleted posts and comments on gets, so threads keep their shape;
to readers, and to every write, they do not exist (gateway/schema/visible.py)."""

from __future__ import annotations

from typing import TypeGuard, TypeVar

from consilium.content.v1 import types_pb2 as ctypes

R = TypeVar("R", ctypes.Post, ctypes.Comment)


def readable(record: R | None) -> TypeGuard[R]:
    """Whether readers see the post (or comment): it exists, neither hidden nor deleted."""
    return record is not None and not record.hidden and not record.deleted
