"""Communities, posts, comments, reactions, poll votes, hidden aliases, full-text index.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)

# The searchable text of a post: title, body and the case facts (the resolution is not
# indexed: it changes after creation and is not what people search cases by).
_SQLITE_SEARCH = """
CREATE VIRTUAL TABLE post_search USING fts5(
    post_id UNINDEXED, title, body, case_text,
    tokenize = 'porter unicode61 remove_diacritics 2'
)
"""
_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN
        INSERT INTO post_search (post_id, title, body, case_text)
        VALUES (new.post_id, new.title, new.body,
                coalesce(new.presenting_complaint, '') || ' ' || coalesce(new.history, '')
                || ' ' || coalesce(new.question, ''));
    END
    """,
    """
    CREATE TRIGGER posts_search_update
    AFTER UPDATE OF title, body, presenting_complaint, history, question ON posts BEGIN
        DELETE FROM post_search WHERE post_id = old.post_id;
        INSERT INTO post_search (post_id, title, body, case_text)
        VALUES (new.post_id, new.title, new.body,
                coalesce(new.presenting_complaint, '') || ' ' || coalesce(new.history, '')
                || ' ' || coalesce(new.question, ''));
    END
    """,
    """
    CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN
        DELETE FROM post_search WHERE post_id = old.post_id;
    END
    """,
)
# Weighted: a word in the title counts most, then the complaint and question.
_POSTGRES_SEARCH = """
ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(title, '')), 'A')
    || setweight(to_tsvector('english',
           coalesce(presenting_complaint, '') || ' ' || coalesce(question, '')), 'B')
    || setweight(to_tsvector('english',
           coalesce(body, '') || ' ' || coalesce(history, '')), 'C')
) STORED
"""


def _create_tables() -> None:
    op.create_table(
        "communities",
        sa.Column("community_id", ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", name="pk_communities"),
        sa.UniqueConstraint("name", name="uq_communities_name"),
    )
    op.create_table(
        "posts",
        sa.Column("post_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("community_id", ID, nullable=False),
        sa.Column("thread_scope_id", ID, nullable=False),
        sa.Column("author_alias_id", ID, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("age_band", sa.String(16), nullable=True),
        sa.Column("sex", sa.String(16), nullable=True),
        sa.Column("presenting_complaint", sa.Text(), nullable=True),
        sa.Column("history", sa.Text(), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("specialty_tags", sa.String(100), nullable=True),
        sa.Column("case_status", sa.String(16), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("solved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("poll_options", sa.JSON(), nullable=True),
        sa.Column("poll_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("post_id", name="pk_posts"),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.community_id"], name="fk_posts_community_id"
        ),
        sa.UniqueConstraint("author_alias_id", "request_id", name="uq_posts_author_request"),
    )
    op.create_index("ix_posts_feed", "posts", ["created_at", "post_id"])
    op.create_index("ix_posts_community_feed", "posts", ["community_id", "created_at", "post_id"])
    op.create_table(
        "comments",
        sa.Column("comment_id", ID, nullable=False),
        sa.Column("post_id", ID, nullable=False),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("author_alias_id", ID, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("comment_id", name="pk_comments"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.post_id"], name="fk_comments_post_id"),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["comments.comment_id"], name="fk_comments_parent_id"
        ),
        sa.UniqueConstraint("author_alias_id", "request_id", name="uq_comments_author_request"),
    )
    op.create_index("ix_comments_thread", "comments", ["post_id", "created_at", "comment_id"])
    op.create_index("ix_comments_author_alias_id", "comments", ["author_alias_id"])
    op.create_table(
        "reactions",
        sa.Column("post_id", ID, nullable=False),
        sa.Column("reactor_alias_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("post_id", "reactor_alias_id", name="pk_reactions"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.post_id"], name="fk_reactions_post_id"),
    )
    op.create_table(
        "poll_votes",
        sa.Column("post_id", ID, nullable=False),
        sa.Column("voter_alias_id", ID, nullable=False),
        sa.Column("option_index", sa.Integer(), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("post_id", "voter_alias_id", name="pk_poll_votes"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.post_id"], name="fk_poll_votes_post_id"),
    )
    op.create_table(
        "hidden_aliases",
        sa.Column("alias_id", ID, nullable=False),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("alias_id", name="pk_hidden_aliases"),
    )


def upgrade() -> None:
    _create_tables()
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(_SQLITE_SEARCH)
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)
    elif dialect == "postgresql":
        op.execute(_POSTGRES_SEARCH)
        op.create_index(
            "ix_posts_search_vector", "posts", ["search_vector"], postgresql_using="gin"
        )
    else:
        raise NotImplementedError(f"content search supports sqlite and postgresql, not {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("posts_search_insert", "posts_search_update", "posts_search_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS post_search")
    for table in ("hidden_aliases", "poll_votes", "reactions", "comments", "posts", "communities"):
        op.drop_table(table)
