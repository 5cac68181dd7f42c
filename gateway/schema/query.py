"""The Query root: reading the feed, posts, search, communities, specialties and oneself.

Root fields are nullable on purpose: when the service behind one is down, that field is
null with an UNAVAILABLE error and the rest of the response still arrives (partial data).
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import GatewayContext
from gateway.schema.types.author import Author
from gateway.schema.types.identity import Specialty, ViewerProfile
from gateway.schema.types.posts import Community, Post, PostConnection, check_page_size
from plumbing.errors import FieldViolation, InvalidArgument

Ctx = Info[GatewayContext, None]


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in physician, own data only.")
    async def me(self, info: Ctx) -> ViewerProfile:
        viewer = info.context.auth.require()
        physician = await info.context.upstreams.identity.get_physician(
            viewer.user_id, viewer.metadata
        )
        return ViewerProfile.from_proto(physician)

    @strawberry.field(description="Newest first; filter by community.")
    async def feed(
        self,
        info: Ctx,
        first: int = 20,
        after: str | None = None,
        community: strawberry.ID | None = None,
    ) -> PostConnection | None:
        check_page_size(first, info.context.settings.max_page_size)
        page = await info.context.upstreams.content.feed(str(community or ""), first, after or "")
        return PostConnection.from_page(list(page.posts), page.next_cursor, page.has_next_page)

    @strawberry.field
    async def post(self, info: Ctx, id: strawberry.ID) -> Post | None:
        found = await info.context.loaders.posts.load(str(id))
        return Post.from_proto(found) if found is not None and not found.hidden else None

    @strawberry.field(description="Full-text search over titles, bodies and case fields.")
    async def search(
        self, info: Ctx, text: str, first: int = 20, after: str | None = None
    ) -> PostConnection | None:
        if not text.strip():
            raise InvalidArgument([FieldViolation("text", "say what to search for")])
        check_page_size(first, info.context.settings.max_page_size)
        page = await info.context.upstreams.content.search(text, first, after or "")
        return PostConnection.from_page(list(page.posts), page.next_cursor, page.has_next_page)

    @strawberry.field
    async def communities(self, info: Ctx) -> list[Community] | None:
        return [Community.from_proto(c) for c in await info.context.upstreams.content.communities()]

    @strawberry.field
    async def specialties(self, info: Ctx) -> list[Specialty] | None:
        found = await info.context.upstreams.identity.list_specialties()
        return [Specialty.from_proto(s) for s in found]

    @strawberry.field(description="An author persona by alias id.")
    async def author(self, info: Ctx, alias_id: strawberry.ID) -> Author | None:
        persona = await info.context.loaders.personas.load(str(alias_id))
        return Author.from_proto(persona) if persona is not None else None
