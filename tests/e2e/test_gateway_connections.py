"""Connections through the gateway: each selection gets its own page, cursors page on exactly."""

from __future__ import annotations

from typing import Any

from support.system import System

CREATE = "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }"
COMMENT = "mutation($i: AddCommentInput!) { addComment(input: $i) { id } }"


async def post_with_comments(system: System, token: str, count: int) -> tuple[str, list[str]]:
    """A new post and the ids of `count` comments on it, oldest first."""
    created = await system.graphql(
        CREATE,
        {
            "i": {
                "kind": "DISCUSSION",
                "community": "lounge-stories",
                "title": "Paging",
                "body": "Comments to page through.",
                "visibility": "ANONYMOUS",
            }
        },
        token=token,
    )
    post_id: str = created["data"]["createPost"]["id"]
    comments = []
    for number in range(count):
        added = await system.graphql(
            COMMENT,
            {"i": {"postId": post_id, "body": f"Comment {number}", "visibility": "ANONYMOUS"}},
            token=token,
        )
        comments.append(added["data"]["addComment"]["id"])
    return post_id, comments


def ids(connection: dict[str, Any]) -> list[str]:
    return [node["id"] for node in connection["nodes"]]


async def test_two_comment_selections_with_different_arguments_get_their_own_pages(
    system: System,
) -> None:
    _, token = await system.account()
    post_id, comments = await post_with_comments(system, token, 4)

    body = await system.graphql(
        """query($id: ID!) { post(id: $id) {
          a: comments(first: 1) { nodes { id } pageInfo { hasNextPage } }
          b: comments(first: 3) { nodes { id } pageInfo { hasNextPage } }
        } }""",
        {"id": post_id},
        token=token,
    )

    post = body["data"]["post"]
    assert ids(post["a"]) == comments[:1], post
    assert ids(post["b"]) == comments[:3], post
    assert post["a"]["pageInfo"]["hasNextPage"] is True
    assert post["b"]["pageInfo"]["hasNextPage"] is True


async def test_one_selection_with_and_without_a_cursor_gets_both_pages(system: System) -> None:
    _, token = await system.account()
    post_id, comments = await post_with_comments(system, token, 3)
    first = await system.graphql(
        "query($id: ID!) { post(id: $id) { comments(first: 1) { pageInfo { endCursor } } } }",
        {"id": post_id},
        token=token,
    )
    cursor = first["data"]["post"]["comments"]["pageInfo"]["endCursor"]

    body = await system.graphql(
        """query($id: ID!, $after: String!) { post(id: $id) {
          head: comments(first: 2) { nodes { id } }
          tail: comments(first: 2, after: $after) { nodes { id } }
        } }""",
        {"id": post_id, "after": cursor},
        token=token,
    )

    post = body["data"]["post"]
    assert ids(post["head"]) == comments[:2], post
    assert ids(post["tail"]) == comments[1:3], post
