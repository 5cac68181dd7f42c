"""The ceiling: a bare Strawberry app serving the gateway's own feed response from memory.

Types of the same shape as the gateway's (plain fields, one `comments` resolver taking its
argument like the real one), filled from the JSON the real gateway returned, so the bench
compares our gateway with the framework's own cost for the identical response. Enums are
plain strings here, which makes this ceiling a little higher, never lower.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.asgi import GraphQL

from gateway.schema import leaves
from gateway.schema.leaves import LeafFields


@strawberry.type
class Community:
    id: strawberry.ID
    name: str


@strawberry.type
class Author:
    alias_id: strawberry.ID
    handle: str
    verified_physician: bool
    specialty: str | None = None
    display_name: str | None = None
    is_viewer: bool = False


@strawberry.type
class ReactionCount:
    reaction: str
    count: int


@strawberry.type
class ReactionSummary:
    total: int
    viewer_reaction: str | None
    counts: list[ReactionCount]


@strawberry.type
class PollOption:
    index: int
    text: str
    votes: int | None


@strawberry.type
class Poll:
    total_votes: int | None
    viewer_has_voted: bool
    closes_at: str | None
    options: list[PollOption]


@strawberry.type
class CaseDetails:
    age_band: str | None
    sex: str | None
    presenting_complaint: str
    question: str
    specialty_tags: list[str]
    status: str | None


@strawberry.type
class Comment:
    id: strawberry.ID
    body: str
    created_at: str
    viewer_is_author: bool
    author: Author | None


@strawberry.type
class CommentConnection:
    nodes: list[Comment]


@strawberry.type
class Post:
    id: strawberry.ID
    title: str
    kind: str
    created_at: str
    viewer_is_author: bool
    comment_count: int
    community: Community
    author: Author | None
    reactions: ReactionSummary
    poll: Poll | None
    case: CaseDetails | None
    first_comments: strawberry.Private[CommentConnection]

    @strawberry.field
    def comments(self, first: int = 20) -> CommentConnection:
        return CommentConnection(nodes=self.first_comments.nodes[:first])


@strawberry.type
class PostConnection:
    nodes: list[Post]


def _author(raw: dict[str, Any] | None) -> Author | None:
    if raw is None:
        return None
    return Author(
        alias_id=raw["aliasId"],
        handle=raw["handle"],
        verified_physician=raw["verifiedPhysician"],
        specialty=raw.get("specialty"),
        display_name=raw.get("displayName"),
        is_viewer=raw["isViewer"],
    )


def _post(raw: dict[str, Any]) -> Post:
    reactions, poll, case = raw["reactions"], raw["poll"], raw["case"]
    return Post(
        id=raw["id"],
        title=raw["title"],
        kind=raw["kind"],
        created_at=raw["createdAt"],
        viewer_is_author=raw["viewerIsAuthor"],
        comment_count=raw["commentCount"],
        community=Community(**raw["community"]),
        author=_author(raw["author"]),
        reactions=ReactionSummary(
            total=reactions["total"],
            viewer_reaction=reactions["viewerReaction"],
            counts=[ReactionCount(**c) for c in reactions["counts"]],
        ),
        poll=None
        if poll is None
        else Poll(
            total_votes=poll["totalVotes"],
            viewer_has_voted=poll["viewerHasVoted"],
            closes_at=poll["closesAt"],
            options=[PollOption(**o) for o in poll["options"]],
        ),
        case=None
        if case is None
        else CaseDetails(
            age_band=case["ageBand"],
            sex=case["sex"],
            presenting_complaint=case["presentingComplaint"],
            question=case["question"],
            specialty_tags=case["specialtyTags"],
            status=case["status"],
        ),
        first_comments=CommentConnection(
            nodes=[
                Comment(
                    id=c["id"],
                    body=c["body"],
                    created_at=c["createdAt"],
                    viewer_is_author=c["viewerIsAuthor"],
                    author=_author(c["author"]),
                )
                for c in raw["comments"]["nodes"]
            ]
        ),
    )


def ceiling_app(feed: dict[str, Any], *, leaf_fields: bool = False) -> GraphQL[Any, Any]:
    """An ASGI app whose `feed` returns, through Strawberry, the objects of `feed` (the
    `data.feed` of the gateway's response), rebuilt from memory on every request.

    `leaf_fields`: executed by the gateway's own executor (gateway/schema/leaves.py), which
    reads plain leaf fields past Strawberry's per-field cost: how far past it that goes."""
    nodes = feed["nodes"]

    @strawberry.type
    class Query:
        @strawberry.field
        def feed(self, first: int = 20) -> PostConnection:
            return PostConnection(nodes=[_post(raw) for raw in nodes[:first]])

    if not leaf_fields:
        return GraphQL(strawberry.Schema(query=Query))
    schema = strawberry.Schema(query=Query, execution_context_class=LeafFields)
    leaves.install(schema)
    return GraphQL(schema)
