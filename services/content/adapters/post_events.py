"""PostCreated, CommentCreated and CaseSolved as events on `content.posts.v1`, keyed by post id.

The payloads carry ids, the kind and the time: no title, body or case text, and of people
only alias ids (P1): the author's, and for a comment those of the post and parent it
answers. Subscribers fetch the rest through the gateway.
"""

from __future__ import annotations

from consilium.events.v1 import content_events_pb2
from plumbing.events.envelope import Event, new_event
from plumbing.events.topics import CONTENT_POSTS
from plumbing.timestamps import timestamp
from services.content.adapters.converters import kind_to_proto
from services.content.domain.posts import Comment, Post

SOURCE = "/consilium/content"


def post_created(post: Post) -> Event:
    message = content_events_pb2.PostCreated(
        post_id=post.post_id,
        community_id=post.community_id,
        kind=kind_to_proto(post.kind),
        author_alias_id=post.author_alias_id,
        created_at=timestamp(post.created_at),
    )
    return new_event(message, topic=CONTENT_POSTS, key=post.post_id, source=SOURCE)


def comment_created(comment: Comment, post_author: str, parent_author: str) -> Event:
    message = content_events_pb2.CommentCreated(
        comment_id=comment.comment_id,
        post_id=comment.post_id,
        parent_id=comment.parent_id,
        author_alias_id=comment.author_alias_id,
        created_at=timestamp(comment.created_at),
        post_author_alias_id=post_author,
        parent_author_alias_id=parent_author,
    )
    # Keyed by the post, so a thread's events stay in order behind the post's own.
    return new_event(message, topic=CONTENT_POSTS, key=comment.post_id, source=SOURCE)


def case_solved(post: Post) -> Event:
    """Ids, the author alias and the time: the resolution text stays in content."""
    assert post.case is not None and post.case.solved_at is not None
    message = content_events_pb2.CaseSolved(
        post_id=post.post_id,
        community_id=post.community_id,
        author_alias_id=post.author_alias_id,
        solved_at=timestamp(post.case.solved_at),
    )
    return new_event(message, topic=CONTENT_POSTS, key=post.post_id, source=SOURCE)
