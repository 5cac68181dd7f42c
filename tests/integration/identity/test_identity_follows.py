"""Community follows at identity: the caller's own, checked ids, a cap, gone with erasure."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from identity_harness import IdentityClient, violations

from consilium.identity.v1 import identity_pb2 as pb
from services.identity.follows import MAX_FOLLOWS


async def _followed(identity: IdentityClient, md: tuple[tuple[str, str], ...]) -> list[str]:
    reply = await identity.stub.ListFollowedCommunities(
        pb.ListFollowedCommunitiesRequest(), metadata=md
    )
    return list(reply.community_ids)


async def test_follows_are_the_callers_own_and_erasure_deletes_them(
    identity: IdentityClient,
) -> None:
    me, md = await identity.member()
    _, other = await identity.member()
    for community in ("cardiology", "pediatrics", "cardiology"):
        await identity.stub.FollowCommunity(
            pb.FollowCommunityRequest(community_id=community), metadata=md
        )
    assert await _followed(identity, md) == ["cardiology", "pediatrics"]
    assert await _followed(identity, other) == [], "one person's follows are theirs alone"
    await identity.stub.UnfollowCommunity(
        pb.UnfollowCommunityRequest(community_id="cardiology"), metadata=md
    )
    await identity.stub.UnfollowCommunity(
        pb.UnfollowCommunityRequest(community_id="cardiology"), metadata=md
    )
    assert await _followed(identity, md) == ["pediatrics"]

    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await identity.stub.ListFollowedCommunities(pb.ListFollowedCommunitiesRequest())
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await identity.stub.FollowCommunity(
            pb.FollowCommunityRequest(community_id="Not An Id!"), metadata=md
        )
    assert violations(bad.value) == ["community_id"]

    await identity.stub.ErasePhysician(pb.ErasePhysicianRequest(user_id=me.user_id), metadata=md)
    async with identity.instance.store.transaction() as repo:
        assert await repo.followed(me.user_id) == []


async def test_a_person_follows_at_most_the_cap(identity: IdentityClient) -> None:
    me, md = await identity.member()
    async with identity.instance.store.transaction() as repo:
        for n in range(MAX_FOLLOWS):
            await repo.follow(me.user_id, f"c-{n}", datetime.now(UTC))
    with pytest.raises(grpc.aio.AioRpcError) as full:
        await identity.stub.FollowCommunity(
            pb.FollowCommunityRequest(community_id="cardiology"), metadata=md
        )
    assert full.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    # Following one already followed is no change, even at the cap.
    await identity.stub.FollowCommunity(pb.FollowCommunityRequest(community_id="c-0"), metadata=md)
