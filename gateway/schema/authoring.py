"""Mutations of a doctor changing their mind: solve a case, edit, delete, retract a reaction.

Each acts under one alias only (see gateway/schema/writes.py): the one the post or comment
was written under, or the viewer's alias of the thread for a reaction. They count as
alias-bearing writes (gateway/extensions/one_alias_write.py): one per request.
"""

from __future__ import annotations

import strawberry

from consilium.content.v1 import content_pb2 as cpb
from gateway.context import Info
from gateway.schema.types.posts import Comment, Post
from gateway.schema.writes import (
    CaseInput,
    author_alias,
    case_to_proto,
    readable_comment,
    readable_post,
    thread_alias,
)


@strawberry.type
class AuthorMutations:
    @strawberry.mutation(
        description="The author of a CASE post marks it SOLVED, with the outcome (may be "
        "empty; the identifier guard checks it). Again: amends the resolution."
    )
    async def mark_case_solved(
        self, info: Info, post_id: strawberry.ID, resolution: str = ""
    ) -> Post:
        post = await readable_post(info, str(post_id))
        alias = await author_alias(
            info, post.author_alias_id, post.thread_scope_id, "mark the case solved"
        )
        solved = await info.context.upstreams.content.mark_case_solved(
            post.post_id, alias, resolution
        )
        return Post.from_proto(solved)

    @strawberry.mutation(
        description="The author replaces the title, body and (CASE only; omitted: kept) the "
        "case facts; checked like a new post, identifier guard included. Sets editedAt."
    )
    async def edit_post(
        self,
        info: Info,
        post_id: strawberry.ID,
        title: str,
        body: str = "",
        case: CaseInput | None = None,
    ) -> Post:
        post = await readable_post(info, str(post_id))
        alias = await author_alias(info, post.author_alias_id, post.thread_scope_id, "edit it")
        edited = await info.context.upstreams.content.edit_post(
            cpb.EditPostRequest(
                post_id=post.post_id,
                author_alias_id=alias,
                title=title,
                body=body,
                case=case_to_proto(case),
            )
        )
        return Post.from_proto(edited)

    @strawberry.mutation(
        description="The author replaces a comment's body; identifier guard included."
    )
    async def edit_comment(self, info: Info, comment_id: strawberry.ID, body: str) -> Comment:
        comment, post = await readable_comment(info, str(comment_id))
        alias = await author_alias(info, comment.author_alias_id, post.thread_scope_id, "edit it")
        edited = await info.context.upstreams.content.edit_comment(comment.comment_id, alias, body)
        return Comment.from_proto(edited)

    @strawberry.mutation(
        description="The author deletes a post: its text is gone, it leaves the feed and "
        "search, and `post(id)` answers null like any unknown post."
    )
    async def delete_post(self, info: Info, post_id: strawberry.ID) -> bool:
        post = await readable_post(info, str(post_id))
        alias = await author_alias(info, post.author_alias_id, post.thread_scope_id, "delete it")
        await info.context.upstreams.content.delete_post(post.post_id, alias)
        return True

    @strawberry.mutation(
        description="The author deletes a comment; a tombstone (deleted, no body, no author) "
        "keeps the replies in place. Returns the tombstone."
    )
    async def delete_comment(self, info: Info, comment_id: strawberry.ID) -> Comment:
        comment, post = await readable_comment(info, str(comment_id))
        alias = await author_alias(info, comment.author_alias_id, post.thread_scope_id, "delete it")
        tombstone = await info.context.upstreams.content.delete_comment(comment.comment_id, alias)
        return Comment.from_proto(tombstone)

    @strawberry.mutation(
        description="Removes the viewer's reaction (their alias of this thread) from a post; "
        "nothing to remove is no error."
    )
    async def retract_reaction(self, info: Info, post_id: strawberry.ID) -> Post:
        info.context.auth.require().require_verified()
        post = await readable_post(info, str(post_id))
        # Only someone with an alias in this thread can have reacted: no alias is made here.
        if await info.context.loaders.thread_aliases.load(post.thread_scope_id):
            alias = await thread_alias(info, post)  # anonymity's write check (suspension)
            await info.context.upstreams.content.retract(post.post_id, alias)
            info.context.loaders.reactions.clear_all()
        return Post.from_proto(post)
