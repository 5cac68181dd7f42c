"""Viewer state in the gateway: content is asked about posts only, sets are paged to their
end in one batched call per round, the loaders batch one call per RPC, and the viewer's
own reaction and vote are matched against their thread alias here."""

from __future__ import annotations

from typing import Any

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import types_pb2 as types
from gateway import viewer_state
from gateway.loaders import create_loaders
from gateway.schema.types.engagement import Poll

LIKE = types.REACTION_KIND_LIKE


class FakeContent:
    """Content's reads over fixed sets, paged like content pages them (by alias id)."""

    page = 2

    def __init__(self, reactors: dict[str, list[str]], voters: dict[str, list[str]]) -> None:
        self.reactors = {p: sorted(a) for p, a in reactors.items()}
        self.voters = {p: sorted(a) for p, a in voters.items()}
        self.calls: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        async def unused(*_args: Any) -> Any:
            raise AssertionError(f"{name} is not part of this test")

        return unused

    def _page(self, ids: list[str], after: str) -> tuple[list[str], str]:
        rest = [a for a in ids if a > after]
        items = rest[: self.page]
        return items, items[-1] if len(rest) > self.page else ""

    async def reaction_summaries(self, post_ids: list[str]) -> dict[str, types.ReactionSummary]:
        self.calls.append(("BatchGetReactionSummaries", list(post_ids)))
        found = {}
        for post in post_ids:
            items, cursor = self._page(self.reactors.get(post, []), "")
            found[post] = types.ReactionSummary(
                post_id=post,
                total=len(self.reactors.get(post, [])),
                reactors=[types.Reactor(alias_id=a, kind=LIKE) for a in items],
                reactors_next_cursor=cursor,
            )
        return found

    async def reactor_pages(self, queries: list[tuple[str, str]]) -> dict[str, pb.ReactorPage]:
        self.calls.append(("BatchListReactors", list(queries)))
        pages = {}
        for post, after in queries:
            items, cursor = self._page(self.reactors[post], after)
            reactors = [types.Reactor(alias_id=a, kind=LIKE) for a in items]
            pages[post] = pb.ReactorPage(post_id=post, reactors=reactors, next_cursor=cursor)
        return pages

    async def polls(self, post_ids: list[str]) -> dict[str, types.Poll]:
        self.calls.append(("BatchGetPolls", list(post_ids)))
        found = {}
        for post in post_ids:
            items, cursor = self._page(self.voters.get(post, []), "")
            found[post] = types.Poll(
                post_id=post,
                options=[types.PollOption(index=0, text="Yes", votes=len(self.voters[post]))],
                total_votes=len(self.voters[post]),
                voter_alias_ids=items,
                voters_next_cursor=cursor,
            )
        return found

    async def voter_pages(self, queries: list[tuple[str, str]]) -> dict[str, pb.VoterPage]:
        self.calls.append(("BatchListPollVoters", list(queries)))
        pages = {}
        for post, after in queries:
            items, cursor = self._page(self.voters[post], after)
            pages[post] = pb.VoterPage(post_id=post, voter_alias_ids=items, next_cursor=cursor)
        return pages


class NoAnonymity:
    async def describe(self, alias_ids: list[str]) -> dict[str, Any]:
        raise AssertionError("not used here")


def aliases(post: str, n: int) -> list[str]:
    return [f"als_{post}_{i:03d}" for i in range(n)]


async def test_sets_are_paged_to_the_end_for_every_post_in_one_call_per_round() -> None:
    content = FakeContent(
        {"p1": aliases("p1", 5), "p2": aliases("p2", 1), "p3": aliases("p3", 3)}, {}
    )
    found = await viewer_state.reactions(content, ["p1", "p2", "p3"])  # type: ignore[arg-type]
    assert {p: sorted(r.reactors) for p, r in found.items()} == {
        p: sorted(a) for p, a in content.reactors.items()
    }
    # Round 1 pages p1 and p3 together (whoever views: the pattern does not depend on it).
    assert [name for name, _ in content.calls] == [
        "BatchGetReactionSummaries",
        "BatchListReactors",
        "BatchListReactors",
    ]
    assert [p for p, _ in content.calls[1][1]] == ["p1", "p3"]
    assert [p for p, _ in content.calls[2][1]] == ["p1"]


async def test_no_request_carries_an_alias() -> None:
    content = FakeContent({"p1": aliases("p1", 5)}, {"p1": aliases("p1", 4)})
    await viewer_state.reactions(content, ["p1"])  # type: ignore[arg-type]
    await viewer_state.polls(content, ["p1"])  # type: ignore[arg-type]
    for name, request in content.calls:
        posts = [q if isinstance(q, str) else q[0] for q in request]
        assert posts and set(posts) == {"p1"}, (name, request)
        cursors = [q[1] for q in request if not isinstance(q, str)]
        # A cursor is where the previous page ended: content's own data, not the viewer's.
        assert all(c in content.reactors["p1"] + content.voters["p1"] for c in cursors)


async def test_the_viewer_is_matched_in_the_gateway() -> None:
    content = FakeContent({"p1": aliases("p1", 5)}, {"p1": aliases("p1", 5)})
    reactions = (await viewer_state.reactions(content, ["p1"]))["p1"]  # type: ignore[arg-type]
    polls = (await viewer_state.polls(content, ["p1"]))["p1"]  # type: ignore[arg-type]
    assert reactions.of("als_p1_004") == LIKE  # on the last page
    assert reactions.of("als_other") is None and reactions.of(None) is None
    assert polls.voted("als_p1_004") and not polls.voted("als_other") and not polls.voted(None)
    shown = Poll.from_proto(polls.poll, viewer_has_voted=True)
    hidden = Poll.from_proto(polls.poll, viewer_has_voted=False)
    assert shown.total_votes == 5 and [o.votes for o in shown.options] == [5]
    assert hidden.total_votes is None and [o.votes for o in hidden.options] == [None]


async def test_loaders_make_one_batched_call_per_rpc() -> None:
    content = FakeContent({f"p{i}": [] for i in range(30)}, {f"p{i}": [] for i in range(30)})
    loaders = create_loaders(NoAnonymity(), content, None)  # type: ignore[arg-type]
    posts = [f"p{i}" for i in range(30)]
    for loader in (loaders.reactions, loaders.polls):
        await loader.load_many(posts)
    assert [(name, sorted(keys)) for name, keys in content.calls] == [
        ("BatchGetReactionSummaries", sorted(posts)),
        ("BatchGetPolls", sorted(posts)),
    ]
