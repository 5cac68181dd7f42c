"""Following communities: the viewer's follow list lives at identity, keyed by the person.

No alias is involved and content is only asked whether the community exists: content never
learns who follows what. The following feed (`feed(following: true)`) sends content the
community ids alone.
"""

from __future__ import annotations

import strawberry

from gateway.context import Info
from gateway.schema.types.posts import Community
from plumbing.errors import FieldViolation, InvalidArgument


async def _community(info: Info, community_id: str) -> Community:
    found = await info.context.loaders.communities.load(community_id)
    if found is None:
        raise InvalidArgument([FieldViolation("id", "no such community; communities lists them")])
    return Community.from_proto(found)


@strawberry.type
class FollowMutations:
    @strawberry.mutation(
        description="Follow a community: its posts join `feed(following: true)`. Verified "
        "physicians and staff; following again changes nothing."
    )
    async def follow_community(self, info: Info, id: strawberry.ID) -> Community:
        viewer = info.context.auth.require_reader()
        community = await _community(info, str(id))
        await info.context.upstreams.identity.follow(str(id), viewer.metadata)
        info.context.loaders.follows.clear_all()
        return community

    @strawberry.mutation(description="Stop following a community; not following is no error.")
    async def unfollow_community(self, info: Info, id: strawberry.ID) -> Community:
        viewer = info.context.auth.require_reader()
        community = await _community(info, str(id))
        await info.context.upstreams.identity.unfollow(str(id), viewer.metadata)
        info.context.loaders.follows.clear_all()
        return community


async def followed_communities(info: Info) -> list[str]:
    """The viewer's followed community ids, from identity (for the following feed)."""
    viewer = info.context.auth.require_reader()
    return await info.context.upstreams.identity.followed(viewer.metadata)
