"""Staff mutations reach the service that owns the access, whoever signed in (issue 10,
finding 2): identity and anonymity check roles and record refusals, so the gateway must not
refuse a member first (that left no record). Without a token there is no actor to record,
and the gateway refuses alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from consilium.anonymity.v1 import anonymity_pb2 as anon
from gateway.auth import Authentication, Viewer
from gateway.context import GatewayContext
from gateway.limits.policy import GatewayLimits
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings
from plumbing.auth import AccessClaims, Role, VerificationStatus
from plumbing.errors import PermissionDenied

MUTATIONS = {
    "verifyPhysician": ('verifyPhysician(userId: "usr_x", approve: true) { id }', "verify"),
    "suspendPhysician": ('suspendPhysician(userId: "usr_x", reason: "r") { id }', "suspend"),
    "reinstatePhysician": ('reinstatePhysician(userId: "usr_x") { id }', "reinstate"),
    "eraseAccount": ('eraseAccount(userId: "usr_x")', "erase"),
    "revealAuthor": ('revealAuthor(aliasId: "als_x", purpose: "p") { id }', "reveal"),
    "suspendAuthor": ('suspendAuthor(aliasId: "als_x", reason: "r")', "SUSPEND"),
    "reinstateAuthor": ('reinstateAuthor(aliasId: "als_x", reason: "r")', "REINSTATE"),
    "hideAlias": ('hideAlias(aliasId: "als_x", reason: "r")', "HIDE"),
    "unhideAlias": ('unhideAlias(aliasId: "als_x", reason: "r")', "UNHIDE"),
}


class Refusing:
    """Identity and anonymity as a member meets them: every staff call is refused there."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _refuse(self, name: str) -> Any:
        async def call(*args: Any) -> Any:
            self.calls.append(name)
            raise PermissionDenied("this needs the ADMIN role; the attempt was recorded")

        return call

    def __getattr__(self, name: str) -> Any:
        return self._refuse(name)

    async def act(self, alias_id: str, action: int, reason: str, metadata: Any) -> int:
        self.calls.append(anon.AliasAction.Name(action).removeprefix("ALIAS_ACTION_"))
        raise PermissionDenied("only a MODERATOR or ADMIN may do this; the attempt was recorded")


class Upstreams:
    def __init__(self) -> None:
        self.identity = Refusing()
        self.anonymity = Refusing()

    @property
    def calls(self) -> list[str]:
        return self.identity.calls + self.anonymity.calls


def context(upstreams: Upstreams, signed_in: bool) -> GatewayContext:
    now = datetime.now(UTC)
    claims = AccessClaims(
        user_id="usr_member",
        roles=frozenset({Role.MEMBER}),
        verification=VerificationStatus.VERIFIED,
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        key_id="k",
    )
    auth = Authentication(viewer=Viewer(claims, "member-token")) if signed_in else Authentication()
    return GatewayContext(
        request=None,  # type: ignore[arg-type]
        response=None,
        auth=auth,
        upstreams=upstreams,  # type: ignore[arg-type]
        loaders=None,  # type: ignore[arg-type]
        settings=GatewaySettings(),
        feed=None,  # type: ignore[arg-type]
        client_address="192.0.2.1",
        limits=GatewayLimits.from_settings(GatewaySettings()),
    )


@pytest.mark.parametrize("name", MUTATIONS)
async def test_a_members_attempt_reaches_the_owning_service(name: str) -> None:
    selection, call = MUTATIONS[name]
    upstreams = Upstreams()
    result = await build_schema(GatewaySettings()).execute(
        f"mutation {{ {selection} }}", context_value=context(upstreams, signed_in=True)
    )
    assert upstreams.calls == [call]
    assert result.errors is not None
    assert [e.extensions["code"] for e in result.errors] == ["FORBIDDEN"]  # type: ignore[index]


@pytest.mark.parametrize("name", MUTATIONS)
async def test_without_a_token_nothing_is_forwarded(name: str) -> None:
    selection, _ = MUTATIONS[name]
    upstreams = Upstreams()
    result = await build_schema(GatewaySettings()).execute(
        f"mutation {{ {selection} }}", context_value=context(upstreams, signed_in=False)
    )
    assert upstreams.calls == []
    assert result.errors is not None
    assert [e.extensions["code"] for e in result.errors] == ["UNAUTHENTICATED"]  # type: ignore[index]
