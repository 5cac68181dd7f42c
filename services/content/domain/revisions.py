"""An author changing their mind: who may edit or delete, what an edit may change, tombstones.

Content cannot tell people apart, only aliases: "the author" is the alias a post or comment
was written under, and the gateway sends that alias only after anonymity confirmed that it
is the viewer's (the one alias of this record, never another of the person's).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from plumbing.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from services.content.domain.posts import (
    Case,
    CaseFacts,
    Comment,
    Post,
    PostDraft,
    PostKind,
    validate_comment_body,
    validate_draft,
)


def require_live_post(post: Post | None) -> Post:
    """The post, unless it is unknown, hidden by a moderator or deleted: all NOT_FOUND, so a
    reader cannot tell which (hidden content stays out of reach, like in lists)."""
    if post is None or post.hidden or post.deleted:
        raise NotFound("no post with that id")
    return post


def require_live_comment(comment: Comment | None) -> Comment:
    if comment is None or comment.hidden or comment.deleted:
        raise NotFound("no comment with that id")
    return comment


def require_author(written_by: str, alias_id: str, action: str) -> None:
    """PERMISSION_DENIED unless `alias_id` is the alias the record was written under."""
    if written_by != alias_id:
        raise PermissionDenied(f"only the author may {action}, under the alias they wrote with")


def edited_post(post: Post, title: str, body: str, facts: CaseFacts | None, now: datetime) -> Post:
    """`post` with new text, after the rules of a new post (identifier guard included) hold.

    A CASE post keeps its facts when `facts` is None; other kinds take none. The case's
    status and resolution stay: editing the question does not reopen a solved case.
    """
    if facts is not None and post.kind is not PostKind.CASE:
        raise InvalidArgument([FieldViolation("case", "is only for CASE posts; leave it unset")])
    case = post.case
    if facts is not None and case is not None:
        case = replace(case, facts=facts)
    draft = PostDraft(
        kind=post.kind,
        community_id=post.community_id,
        thread_scope_id=post.thread_scope_id,
        author_alias_id=post.author_alias_id,
        title=title,
        body=body,
        case=case.facts if case is not None else None,
        poll_options=post.poll_options,
        poll_closes_at=None,  # the poll's closing time is not edited (nor re-checked)
    )
    validate_draft(draft, now)
    return replace(post, title=title, body=body, case=case, edited_at=now)


def edited_comment(comment: Comment, body: str, now: datetime) -> Comment:
    validate_comment_body(body)
    return replace(comment, body=body, edited_at=now)


def deleted_post(post: Post) -> Post:
    """The stored tombstone: every text the author wrote is gone, the ids stay (comments,
    reactions and votes still point at it)."""
    case = post.case
    if case is not None:
        blank = replace(case.facts, presenting_complaint="", history="", question="")
        case = Case(blank, case.status, "", case.solved_at)
    return replace(post, title="", body="", case=case, deleted=True)


def deleted_comment(comment: Comment) -> Comment:
    """The stored tombstone keeps the author alias (moderation may still act on it) but
    never shows it: reads go through `redacted_comment`."""
    return replace(comment, body="", deleted=True)
