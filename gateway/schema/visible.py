"""The "missing or hidden post" rule, once: what readers and writes may see of content's records.

Content returns hidden and deleted posts and comments on gets, so threads keep their shape
(a reply's parent is still there); to readers, and to every write, they do not exist. A post
a moderator hid, its author deleted, or that never was are alike (null for a read, NOT_FOUND
for a write), so no one can tell which of the three it is.
"""

from __future__ import annotations

from consilium.content.v1 import types_pb2 as ctypes
from gateway.context import Info
from gateway.visibility import readable as readable
from plumbing.errors import NotFound


async def find_post(info: Info, post_id: str) -> ctypes.Post | None:
    """The post as readers see it: None when unknown, hidden or deleted (one batched
    BatchGetPosts per request, through the request's loader)."""
    found = await info.context.loaders.posts.load(post_id)
    return found if readable(found) else None


async def readable_post(info: Info, post_id: str) -> ctypes.Post:
    """The post a write acts on; NOT_FOUND alike when unknown, hidden or deleted."""
    found = await find_post(info, post_id)
    if found is None:
        raise NotFound("no such post")
    return found


async def readable_comment(info: Info, comment_id: str) -> tuple[ctypes.Comment, ctypes.Post]:
    """The comment a write acts on, and its post; NOT_FOUND alike when either is unknown,
    hidden or deleted."""
    found = (await info.context.upstreams.content.comments([comment_id])).get(comment_id)
    if not readable(found):
        raise NotFound("no such comment")
    return found, await readable_post(info, found.post_id)
