"""Fake upstream clients that count their calls, for running the real schema without servers.

They answer the gateway's client methods (gateway/clients/) with a fixed data set: posts of
every kind, each with comments by their own aliases, reactions and (for polls) votes. Every
call is recorded under the name of the RPC it stands for, with the keys it asked about.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from consilium.anonymity.v1 import anonymity_pb2 as anon
from consilium.content.v1 import content_pb2 as cpb
from consilium.content.v1 import types_pb2 as types
from consilium.identity.v1 import identity_pb2 as ipb
from gateway.auth import Authentication, Viewer
from gateway.caches import SharedCaches
from gateway.clients.content import CardsAsked, FeedCards
from gateway.context import GatewayContext
from gateway.limits.policy import GatewayLimits
from gateway.loaders import create_loaders
from gateway.settings import GatewaySettings
from plumbing.auth import AccessClaims, Role, VerificationStatus
from plumbing.errors import Unavailable

KINDS = (types.POST_KIND_DISCUSSION, types.POST_KIND_POLL, types.POST_KIND_CASE)
VISIBILITIES = (
    anon.Visibility.VISIBILITY_IDENTIFIED,
    anon.Visibility.VISIBILITY_PSEUDONYMOUS,
    anon.Visibility.VISIBILITY_ANONYMOUS,
)


def _stamp() -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2026, 11, 1, tzinfo=UTC))
    return stamp


class Calls:
    """RPC name -> the key lists of each call."""

    def __init__(self) -> None:
        self.log: list[tuple[str, list[Any]]] = []

    def record(self, rpc: str, keys: list[Any]) -> None:
        self.log.append((rpc, list(keys)))

    def counts(self) -> Counter[str]:
        return Counter(rpc for rpc, _ in self.log)

    def clear(self) -> None:
        self.log.clear()


def persona(alias_id: str, index: int) -> anon.Persona:
    visibility = VISIBILITIES[index % 3]
    found = anon.Persona(
        alias_id=alias_id,
        handle=f"Anonymous Cardiologist {index}",
        verified_physician=True,
        visibility=visibility,
    )
    if visibility == anon.Visibility.VISIBILITY_IDENTIFIED:
        found.display_name = f"Dr. Person {index}"
    return found


@dataclass
class FakeContent:
    calls: Calls
    posts_by_id: dict[str, types.Post] = field(default_factory=dict)
    comments_of: dict[str, list[types.Comment]] = field(default_factory=dict)
    #: Set to make BatchGetFeedCards fail as an unreachable content would.
    cards_down: bool = False
    #: Cleared to send pages without the cards they were asked to carry, as content does
    #: when reading them failed.
    carries_cards: bool = True

    @classmethod
    def seeded(cls, calls: Calls, posts: int, comments: int) -> FakeContent:
        fake = cls(calls)
        for i in range(posts):
            post_id = f"pst_{i:03d}"
            post = types.Post(
                post_id=post_id,
                kind=KINDS[i % 3],
                community_id=f"com_{i % 4}",
                thread_scope_id=f"scp_{i:03d}",
                author_alias_id=f"als_p{i:03d}",
                title=f"Post {i}",
                body="body",
                created_at=_stamp(),
            )
            if post.kind == types.POST_KIND_CASE:
                post.case.presenting_complaint = "chest pain"
            fake.posts_by_id[post_id] = post
            fake.comments_of[post_id] = [
                types.Comment(
                    comment_id=f"cmt_{i:03d}_{j:02d}",
                    post_id=post_id,
                    author_alias_id=f"als_c{i:03d}_{j:02d}",
                    body="reply",
                    created_at=_stamp(),
                )
                for j in range(comments)
            ]
        return fake

    async def feed(
        self,
        community_id: str,
        first: int,
        after: str,
        *,
        case_status: int = 0,
        only_communities: list[str] | None = None,
        cards: CardsAsked | None = None,
    ) -> tuple[cpb.ListFeedResponse, FeedCards | None]:
        """ListFeed, with the parts of the cards it carries recorded as its keys."""
        self.calls.record("ListFeed", [community_id, *_parts(cards)])
        page = list(self.posts_by_id.values())[:first]
        carried = await self._carried([p.post_id for p in page], cards)
        return cpb.ListFeedResponse(posts=page, cursors=[p.post_id for p in page]), carried

    async def search(
        self, text: str, first: int, after: str, *, case_status: int = 0, cards: Any = None
    ) -> tuple[cpb.SearchResponse, FeedCards | None]:
        self.calls.record("Search", [text, *_parts(cards)])
        page = list(self.posts_by_id.values())[:first]
        carried = await self._carried([p.post_id for p in page], cards)
        return cpb.SearchResponse(posts=page, cursors=[p.post_id for p in page]), carried

    async def _carried(self, post_ids: list[str], cards: CardsAsked | None) -> FeedCards | None:
        if not cards or not self.carries_cards:
            return None
        quiet = FakeContent(Calls(), self.posts_by_id, self.comments_of)
        return await quiet.feed_cards(
            post_ids,
            counts=cards.counts,
            pages=list(cards.pages),
            reactions=cards.reactions,
            polls=cards.polls,
        )

    async def posts(self, post_ids: list[str]) -> dict[str, types.Post]:
        self.calls.record("BatchGetPosts", post_ids)
        return {p: self.posts_by_id[p] for p in post_ids if p in self.posts_by_id}

    async def comment_counts(self, post_ids: list[str]) -> dict[str, int]:
        self.calls.record("BatchCountComments", post_ids)
        return {p: len(self.comments_of.get(p, [])) for p in post_ids}

    async def comment_pages(
        self, queries: list[tuple[str, int, str]]
    ) -> dict[tuple[str, int, str], cpb.CommentPage]:
        self.calls.record("BatchListComments", queries)
        pages = {}
        for post_id, first, _after in queries:
            shown = self.comments_of.get(post_id, [])[:first]
            pages[(post_id, first, _after)] = cpb.CommentPage(
                post_id=post_id, comments=shown, cursors=[c.comment_id for c in shown]
            )
        return pages

    async def reaction_summaries(self, post_ids: list[str]) -> dict[str, types.ReactionSummary]:
        self.calls.record("BatchGetReactionSummaries", post_ids)
        return {
            p: types.ReactionSummary(
                post_id=p,
                total=1,
                counts=[types.ReactionCount(kind=types.REACTION_KIND_LIKE, count=1)],
                reactors=[types.Reactor(alias_id=f"als_r{p}", kind=types.REACTION_KIND_LIKE)],
            )
            for p in post_ids
        }

    async def reactor_pages(self, queries: list[tuple[str, str]]) -> dict[str, Any]:
        self.calls.record("BatchListReactors", queries)
        return {}

    async def polls(self, post_ids: list[str]) -> dict[str, types.Poll]:
        self.calls.record("BatchGetPolls", post_ids)
        return {
            p: types.Poll(
                post_id=p,
                options=[types.PollOption(index=0, text="yes", votes=1)],
                total_votes=1,
                voter_alias_ids=[f"als_v{p}"],
                closes_at=_stamp(),
            )
            for p in post_ids
            if self.posts_by_id[p].kind == types.POST_KIND_POLL
        }

    async def voter_pages(self, queries: list[tuple[str, str]]) -> dict[str, Any]:
        self.calls.record("BatchListPollVoters", queries)
        return {}

    async def feed_cards(
        self,
        post_ids: list[str],
        *,
        counts: bool = False,
        pages: list[tuple[int, str]] | None = None,
        reactions: bool = False,
        polls: bool = False,
    ) -> FeedCards:
        """The single reads' answers, recorded as one call: the parts asked for as its keys."""
        asked = _parts(CardsAsked(counts, tuple(pages or ()), reactions, polls))
        self.calls.record("BatchGetFeedCards", [*post_ids, *asked])
        if self.cards_down:
            raise Unavailable("upstream service unavailable")
        quiet = FakeContent(Calls(), self.posts_by_id, self.comments_of)
        queries = [(p, f, a) for f, a in pages or [] for p in dict.fromkeys(post_ids)]
        return FeedCards(
            counts=await quiet.comment_counts(post_ids) if counts else {},
            pages=await quiet.comment_pages(queries) if queries else {},
            summaries=await quiet.reaction_summaries(post_ids) if reactions else {},
            polls=await quiet.polls(post_ids) if polls else {},
        )

    async def communities_by_id(self, community_ids: list[str]) -> dict[str, types.Community]:
        self.calls.record("BatchGetCommunities", community_ids)
        return {c: types.Community(community_id=c, name=f"Community {c}") for c in community_ids}

    async def communities(self) -> list[types.Community]:
        self.calls.record("ListCommunities", [])
        return [types.Community(community_id=f"com_{i}", name=f"Community {i}") for i in range(4)]


@dataclass
class FakeAnonymity:
    calls: Calls
    #: The viewer's own aliases: the first post's author and the first comment on it.
    mine: frozenset[str] = frozenset({"als_p000", "als_c000_00"})
    #: Set to make every call fail as an unreachable anonymity would.
    down: bool = False

    async def describe(self, alias_ids: list[str]) -> dict[str, anon.Persona]:
        self.calls.record("BatchDescribeAliases", alias_ids)
        if self.down:
            raise Unavailable("upstream service unavailable")
        return {a: persona(a, i) for i, a in enumerate(sorted(alias_ids))}

    async def owned(self, user_id: str, alias_ids: list[str], metadata: Any) -> set[str]:
        self.calls.record("BatchCheckOwnership", alias_ids)
        if self.down:
            raise Unavailable("upstream service unavailable")
        return {a for a in alias_ids if a in self.mine}

    async def thread_aliases(
        self, user_id: str, scope_ids: list[str], metadata: Any
    ) -> dict[str, str]:
        self.calls.record("BatchGetThreadAliases", scope_ids)
        if self.down:
            raise Unavailable("upstream service unavailable")
        return {"scp_000": "als_p000"} if "scp_000" in scope_ids else {}

    async def viewer_aliases(
        self, user_id: str, scope_ids: list[str], alias_ids: list[str], metadata: Any
    ) -> tuple[dict[str, str], set[str]]:
        """BatchGetThreadAliases with ownership: recorded with the scopes, then the aliases."""
        self.calls.record("BatchGetThreadAliases", [*scope_ids, *alias_ids])
        if self.down:
            raise Unavailable("upstream service unavailable")
        threads = {"scp_000": "als_p000"} if "scp_000" in scope_ids else {}
        return threads, {a for a in alias_ids if a in self.mine}


@dataclass
class FakeIdentity:
    calls: Calls

    async def list_specialties(self) -> list[ipb.Specialty]:
        self.calls.record("ListSpecialties", [])
        return [ipb.Specialty(code="207RC0000X", name="Cardiovascular Disease")]


@dataclass
class FakeUpstreams:
    """What `GatewayContext.upstreams` offers the resolvers, with counting fakes."""

    calls: Calls
    content: FakeContent
    anonymity: FakeAnonymity
    identity: FakeIdentity
    caches: SharedCaches

    @classmethod
    def seeded(cls, caches: SharedCaches, posts: int = 20, comments: int = 3) -> FakeUpstreams:
        calls = Calls()
        return cls(
            calls,
            FakeContent.seeded(calls, posts, comments),
            FakeAnonymity(calls),
            FakeIdentity(calls),
            caches,
        )


def reader(user_id: str = "usr_reader", status: VerificationStatus | None = None) -> Viewer:
    now = datetime.now(UTC)
    claims = AccessClaims(
        user_id=user_id,
        roles=frozenset({Role.MEMBER}),
        verification=status or VerificationStatus.VERIFIED,
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        key_id="k",
    )
    return Viewer(claims, f"{user_id}-token")


def context(upstreams: FakeUpstreams, viewer: Viewer | None) -> GatewayContext:
    """A request's context as the app builds it: fresh loaders over the shared caches."""
    settings = GatewaySettings()
    return GatewayContext(
        request=None,  # type: ignore[arg-type]
        response=None,
        auth=Authentication(viewer=viewer),
        client_address="192.0.2.1",
        limits=GatewayLimits.from_settings(settings),
        upstreams=upstreams,  # type: ignore[arg-type]
        loaders=create_loaders(
            upstreams.anonymity,  # type: ignore[arg-type]
            upstreams.content,  # type: ignore[arg-type]
            viewer,
            caches=upstreams.caches,
        ),
        settings=settings,
        feed=None,  # type: ignore[arg-type]
    )


def _parts(cards: CardsAsked | None) -> list[Any]:
    """The parts of cards asked for, as a call's recorded keys."""
    if not cards:
        return []
    parts = [("counts", cards.counts), ("reactions", cards.reactions), ("polls", cards.polls)]
    return [name for name, wanted in parts if wanted] + [("page", *a) for a in cards.pages]
