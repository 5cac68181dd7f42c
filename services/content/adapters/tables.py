"""The content database schema (SQLAlchemy Core): posts, comments, reactions, votes, moderation.

No table has a column for a user id, name, email or NPI: authors, reactors and voters are
alias ids (invariant P1). The full-text index is dialect-specific and lives in the
migrations and `search.py`, not here. The outbox and processed-events tables come from
`plumbing.events` (migration 0003).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from plumbing.events.runtime import EventTables

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)

communities = Table(
    "communities",
    metadata,
    Column("community_id", ID, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("description", Text, nullable=False),
)

posts = Table(
    "posts",
    metadata,
    Column("post_id", ID, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("community_id", ID, ForeignKey("communities.community_id"), nullable=False),
    Column("thread_scope_id", ID, nullable=False),
    Column("author_alias_id", ID, nullable=False),
    # Idempotency key of CreatePost, unique per author; NULL when the caller sent none.
    Column("request_id", String(64), nullable=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # CASE only.
    Column("age_band", String(16), nullable=True),
    Column("sex", String(16), nullable=True),
    Column("presenting_complaint", Text, nullable=True),
    Column("history", Text, nullable=True),
    Column("question", Text, nullable=True),
    Column("specialty_tags", String(100), nullable=True),
    Column("case_status", String(16), nullable=True),
    Column("resolution", Text, nullable=True),
    Column("solved_at", DateTime(timezone=True), nullable=True),
    # POLL only: the option texts in order, and when voting stops (NULL: never).
    Column("poll_options", JSON, nullable=True),
    Column("poll_closes_at", DateTime(timezone=True), nullable=True),
    # Set when the author last edited it / deleted it (migration 0004).
    Column("edited_at", DateTime(timezone=True), nullable=True),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("author_alias_id", "request_id", name="uq_posts_author_request"),
)
Index("ix_posts_feed", posts.c.created_at, posts.c.post_id)
Index("ix_posts_community_feed", posts.c.community_id, posts.c.created_at, posts.c.post_id)

comments = Table(
    "comments",
    metadata,
    Column("comment_id", ID, primary_key=True),
    Column("post_id", ID, ForeignKey("posts.post_id"), nullable=False),
    Column("parent_id", ID, ForeignKey("comments.comment_id"), nullable=True),
    Column("author_alias_id", ID, nullable=False),
    Column("request_id", String(64), nullable=True),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("edited_at", DateTime(timezone=True), nullable=True),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("author_alias_id", "request_id", name="uq_comments_author_request"),
)
Index("ix_comments_thread", comments.c.post_id, comments.c.created_at, comments.c.comment_id)
Index("ix_comments_author_alias_id", comments.c.author_alias_id)

reactions = Table(
    "reactions",
    metadata,
    Column("post_id", ID, ForeignKey("posts.post_id"), nullable=False),
    Column("reactor_alias_id", ID, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reacted_at", DateTime(timezone=True), nullable=False),
    # One reaction per alias and post: a new one replaces the old.
    PrimaryKeyConstraint("post_id", "reactor_alias_id", name="pk_reactions"),
)

poll_votes = Table(
    "poll_votes",
    metadata,
    Column("post_id", ID, ForeignKey("posts.post_id"), nullable=False),
    # The voter's alias for this poll's thread, so votes cannot be linked across polls.
    Column("voter_alias_id", ID, nullable=False),
    Column("option_index", Integer, nullable=False),
    Column("voted_at", DateTime(timezone=True), nullable=False),
    # One vote per voter and poll, enforced by the database against concurrent requests.
    PrimaryKeyConstraint("post_id", "voter_alias_id", name="pk_poll_votes"),
)

hidden_aliases = Table(
    "hidden_aliases",
    metadata,
    Column("alias_id", ID, primary_key=True),
    Column("hidden_at", DateTime(timezone=True), nullable=False),
)

#: Aliases whose owner was erased (AliasOrphaned): they belong to nobody and never will again.
#: Their content stays visible; they may not write any more. Only the alias id is kept.
orphaned_aliases = Table(
    "orphaned_aliases",
    metadata,
    Column("alias_id", ID, primary_key=True),
    Column("orphaned_at", DateTime(timezone=True), nullable=False),
)

#: The transactional outbox (PostCreated, CommentCreated) and the ids of alias events applied.
event_tables = EventTables.add_to(metadata)

#: One row per reported post or comment: its place in the moderation queue.
report_items = Table(
    "report_items",
    metadata,
    Column("item_id", ID, primary_key=True),
    Column("post_id", ID, ForeignKey("posts.post_id"), nullable=False),
    # NULL when the post itself is reported.
    Column("comment_id", ID, ForeignKey("comments.comment_id"), nullable=True),
    Column("status", String(16), nullable=False),
    Column("first_reported_at", DateTime(timezone=True), nullable=False),
    Column("last_reported_at", DateTime(timezone=True), nullable=False),
    # The last action taken (HIDE_CONTENT, DISMISS), NULL before any.
    Column("resolution", String(16), nullable=True),
)
Index(
    "ix_report_items_queue",
    report_items.c.status,
    report_items.c.last_reported_at,
    report_items.c.item_id,
)

#: The reports themselves, by the reporter's alias of the thread: one per alias and item.
reports = Table(
    "reports",
    metadata,
    Column("item_id", ID, ForeignKey("report_items.item_id"), nullable=False),
    Column("reporter_alias_id", ID, nullable=False),
    Column("reason", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("item_id", "reporter_alias_id", name="pk_reports"),
)

#: Posts and comments a moderator hid one by one (their alias may stay visible).
hidden_items = Table(
    "hidden_items",
    metadata,
    Column("item_id", ID, primary_key=True),
    Column("hidden_at", DateTime(timezone=True), nullable=False),
)

#: What moderators did to reported items. The actor is a role and a random action id, never a
#: user id (P1): who acted is for the audit ledger, not for content.
moderation_log = Table(
    "moderation_log",
    metadata,
    Column("action_id", ID, primary_key=True),
    Column("item_id", ID, nullable=False),
    Column("action", String(16), nullable=False),
    Column("staff_role", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("acted_at", DateTime(timezone=True), nullable=False),
)
