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


EDGES = "edges { cursor node { id } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def check_page(connection: dict[str, Any]) -> list[tuple[str, str]]:
    """(id, cursor) of each edge, after checking edges, nodes and pageInfo agree."""
    pairs = [(e["node"]["id"], e["cursor"]) for e in connection["edges"]]
    assert [i for i, _ in pairs] == ids(connection), connection
    info = connection["pageInfo"]
    assert info["hasPreviousPage"] is False
    assert info["startCursor"] == (pairs[0][1] if pairs else None)
    assert info["endCursor"] == (pairs[-1][1] if pairs else None)
    assert len({c for _, c in pairs}) == len(pairs), "cursors are per item"
    return pairs


async def test_every_edge_cursor_pages_on_right_after_its_item(system: System) -> None:
    """Feed, search and comments: `after` any edge's cursor is the rest of the list, in order."""
    _, token = await system.account()
    post_id, comments = await post_with_comments(system, token, 5)
    for number in range(4):
        await system.graphql(
            CREATE,
            {
                "i": {
                    "kind": "DISCUSSION",
                    "community": "lounge-stories",
                    "title": f"Cursor walk {number}",
                    "body": "Stethoscope cursor walk.",
                    "visibility": "PSEUDONYMOUS",
                }
            },
            token=token,
        )
    lists = {
        "feed": (
            f"query($a: String) {{ list: feed(first: 50, after: $a) {{ {EDGES} }} }}",
            {},
            lambda data: data["list"],
        ),
        "search": (
            f'query($a: String) {{ list: search(text: "stethoscope", first: 50, after: $a) '
            f"{{ {EDGES} }} }}",
            {},
            lambda data: data["list"],
        ),
        "comments": (
            f"query($id: ID!, $a: String) {{ post(id: $id) {{ list: comments(first: 50, "
            f"after: $a) {{ {EDGES} }} }} }}",
            {"id": post_id},
            lambda data: data["post"]["list"],
        ),
    }
    for name, (query, variables, pick) in lists.items():
        whole = check_page(pick((await system.graphql(query, variables, token=token))["data"]))
        assert len(whole) >= 4, (name, whole)
        if name == "comments":
            assert [i for i, _ in whole] == comments
        for index, (_, cursor) in enumerate(whole):
            reply = await system.graphql(query, {**variables, "a": cursor}, token=token)
            rest = check_page(pick(reply["data"]))
            assert [i for i, _ in rest] == [i for i, _ in whole[index + 1 :]], (name, index)
            assert pick(reply["data"])["pageInfo"]["hasNextPage"] is False


async def test_an_empty_page_has_no_cursors(system: System) -> None:
    body = await system.graphql(f"{{ feed(first: 5) {{ {EDGES} }} }}", token=await system.reader())
    assert body["data"]["feed"] == {
        "edges": [],
        "nodes": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }
