"""`Community.viewerFollows` over a list costs one ListFollowedCommunities, by the token."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from gateway.auth import Viewer
from gateway.loaders import create_loaders
from plumbing.auth import AccessClaims, Role, VerificationStatus


class Unused:
    """Anonymity and content: their bound methods are taken, never called here."""

    def __getattr__(self, name: str) -> object:
        async def refuse(*_args: object) -> None:
            raise AssertionError(f"{name} was called")

        return refuse


class Identity:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, str], ...]] = []

    async def followed(self, metadata: tuple[tuple[str, str], ...]) -> list[str]:
        self.calls.append(metadata)
        return ["cardiology", "pediatrics"]


def viewer() -> Viewer:
    now = datetime.now(UTC)
    claims = AccessClaims(
        user_id="usr_member",
        roles=frozenset({Role.MEMBER}),
        verification=VerificationStatus.VERIFIED,
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        key_id="k",
    )
    return Viewer(claims, "member-token")


async def test_one_call_for_a_whole_list_and_none_when_signed_out() -> None:
    identity = Identity()
    loaders = create_loaders(Unused(), Unused(), viewer(), identity)  # type: ignore[arg-type]
    found = await asyncio.gather(
        *(loaders.follows.load(c) for c in ("cardiology", "lounge-stories", "pediatrics"))
    )
    assert found == [True, False, True]
    assert len(identity.calls) == 1
    assert ("authorization", "Bearer member-token") in identity.calls[0]

    anonymous = create_loaders(Unused(), Unused(), None, identity)  # type: ignore[arg-type]
    assert await anonymous.follows.load("cardiology") is False
    assert len(identity.calls) == 1, "nobody signed in: identity is not asked"
