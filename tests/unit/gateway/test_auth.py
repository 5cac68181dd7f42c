"""Who is asking: the Authorization header, tokens refused for their reason, roles and readers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.auth import Authentication, Authenticator, Viewer
from plumbing.auth import AccessClaims, Role, VerificationStatus
from plumbing.auth.claims import AUDIENCE, ISSUER
from plumbing.errors import DomainError, PermissionDenied, Unauthenticated
from services.identity.tokens import KeyRing, TokenIssuer

USER = "usr_abcdefghijklmnopqrstuvwxyz"
V = VerificationStatus


class Identity:
    """Stands in for identity's GetPublicKeys and signs tokens with its ring."""

    def __init__(self) -> None:
        self.ring = KeyRing(Ed25519PrivateKey.generate())
        self.fetches = 0

    async def public_keys(self) -> dict[str, Any]:
        self.fetches += 1
        return self.ring.jwks()

    def token(
        self,
        roles: Iterable[Role] = (Role.MEMBER,),
        verification: VerificationStatus = V.VERIFIED,
        *,
        issued: datetime | None = None,
    ) -> str:
        clock = (lambda: issued) if issued else (lambda: datetime.now(UTC))
        issuer = TokenIssuer(self.ring, ttl=timedelta(minutes=15), clock=clock)
        return issuer.issue(USER, roles, verification).token

    def payload(self, **overrides: Any) -> str:
        """A token signed with the right key whose claims the test chooses."""
        now = int(datetime.now(UTC).timestamp())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": USER, "roles": ["MEMBER"]}
        claims |= {"ver": "VERIFIED", "iat": now, "exp": now + 900, **overrides}
        return self.ring.sign({k: v for k, v in claims.items() if v is not None})


def authenticator(identity: Identity) -> Authenticator:
    return Authenticator(identity)  # type: ignore[arg-type]  # only public_keys is asked


async def refused(identity: Identity, authorization: str) -> DomainError:
    auth = await authenticator(identity).authenticate(authorization)
    assert auth.viewer is None
    assert isinstance(auth.error, Unauthenticated)
    with pytest.raises(Unauthenticated) as raised:
        auth.require()
    assert raised.value is auth.error  # the reason travels to the client, not "sign in first"
    return auth.error


# -- the header -------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, ""])
async def test_no_header_is_nobody_and_asks_identity_nothing(header: str | None) -> None:
    identity = Identity()
    auth = await authenticator(identity).authenticate(header)
    assert auth == Authentication()
    assert identity.fetches == 0
    with pytest.raises(Unauthenticated, match="Authorization: Bearer"):
        auth.require()
    with pytest.raises(Unauthenticated, match="verified physicians"):
        auth.require_reader()


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "Bearer", "Bearer    ", "Token abc", "x"])
async def test_anything_but_bearer_is_refused_without_asking_identity(header: str) -> None:
    identity = Identity()
    error = await refused(identity, header)
    assert "must be `Bearer <token>`" in error.message
    assert identity.fetches == 0


async def test_a_valid_token_is_the_viewer_whatever_the_scheme_case() -> None:
    identity = Identity()
    token = identity.token((Role.MEMBER, Role.MODERATOR))
    gateway = authenticator(identity)
    auth = await gateway.authenticate(f"bearer  {token} ")
    assert auth.error is None and auth.viewer is not None
    assert auth.viewer.user_id == USER
    assert auth.viewer.claims.roles == {Role.MEMBER, Role.MODERATOR}
    assert auth.viewer.token == token
    assert auth.viewer.metadata == (("authorization", f"Bearer {token}"),)
    assert auth.require() is auth.viewer
    await gateway.authenticate(f"Bearer {identity.token()}")
    assert identity.fetches == 1  # the key set is fetched once, then verified offline


# -- refused tokens, each for its reason ------------------------------------------------------


async def test_an_expired_token_is_refused_as_expired() -> None:
    identity = Identity()
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)  # lived 15 minutes, 45 ago
    error = await refused(identity, f"Bearer {identity.token(issued=an_hour_ago)}")
    assert "expired" in error.message


async def test_a_token_from_the_future_is_refused() -> None:
    identity = Identity()
    later = datetime.now(UTC) + timedelta(hours=1)
    error = await refused(identity, f"Bearer {identity.token(issued=later)}")
    assert "not valid yet" in error.message


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "another-app"}, "audience invalid"),
        ({"iss": "someone-else"}, "issuer invalid"),
        ({"exp": None}, "lacks a required claim"),
        ({"roles": ["OWNER"]}, "claims invalid"),  # a role this gateway does not know
    ],
)
async def test_a_token_with_the_wrong_claims_is_refused(
    claims: dict[str, Any], reason: str
) -> None:
    identity = Identity()
    error = await refused(identity, f"Bearer {identity.payload(**claims)}")
    assert reason in error.message


async def test_a_token_signed_by_another_key_is_refused() -> None:
    identity, forger = Identity(), Identity()
    error = await refused(identity, f"Bearer {forger.token()}")
    assert "unknown key id" in error.message


async def test_a_tampered_token_is_refused() -> None:
    identity = Identity()
    head, _, signature = identity.token().split(".")
    forged = identity.payload(roles=["ADMIN"]).split(".")[1]
    error = await refused(identity, f"Bearer {head}.{forged}.{signature}")
    assert "signature invalid" in error.message
    error = await refused(identity, "Bearer not.a.jwt")
    assert "malformed" in error.message


async def test_refusals_name_no_one_and_never_echo_the_token() -> None:
    identity = Identity()
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    tokens = [identity.token(issued=an_hour_ago), identity.payload(aud="x"), Identity().token()]
    for token in tokens:
        error = await refused(identity, f"Bearer {token}")
        assert USER not in error.message and token not in error.message


# -- who may read and write -------------------------------------------------------------------


def _claims(roles: Iterable[Role] = (Role.MEMBER,), verification: V = V.VERIFIED) -> AccessClaims:
    now = datetime.now(UTC)
    return AccessClaims(
        user_id=USER,
        roles=frozenset(roles),
        verification=verification,
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        key_id="k",
    )


def _viewer(roles: Iterable[Role] = (Role.MEMBER,), verification: V = V.VERIFIED) -> Viewer:
    return Viewer(_claims(roles, verification), "token")


def test_a_viewer_never_shows_its_token() -> None:
    token = Identity().token()
    viewer = Viewer(_claims(), token)
    assert token not in repr(viewer) and token not in str(viewer)


@pytest.mark.parametrize(
    ("roles", "verification", "reads"),
    [
        ((Role.MEMBER,), V.VERIFIED, True),
        ((Role.MEMBER,), V.PENDING, False),
        ((Role.MEMBER,), V.REJECTED, False),
        ((Role.MEMBER,), V.SUSPENDED, False),
        ((Role.MODERATOR,), V.PENDING, True),  # staff read while their own NPI check waits
        ((Role.AUDITOR,), V.REJECTED, True),
        ((Role.ADMIN,), V.SUSPENDED, False),  # a suspension closes reading whatever the roles
    ],
)
def test_who_reads_content(roles: tuple[Role, ...], verification: V, reads: bool) -> None:
    viewer = _viewer(roles, verification)
    auth = Authentication(viewer=viewer)
    if reads:
        assert auth.require_reader() is viewer
    else:
        with pytest.raises(PermissionDenied) as raised:
            auth.require_reader()
        assert "verified physicians" in raised.value.message or "suspended" in raised.value.message


def test_a_refused_token_reads_as_its_refusal_not_as_nobody() -> None:
    error = Unauthenticated("token expired; sign in again")
    with pytest.raises(Unauthenticated) as raised:
        Authentication(error=error).require_reader()
    assert raised.value is error


def test_only_verified_physicians_write_whatever_their_roles() -> None:
    assert _viewer().require_verified().user_id == USER
    for viewer in (_viewer(verification=V.PENDING), _viewer((Role.ADMIN,), V.PENDING)):
        with pytest.raises(PermissionDenied, match="only verified physicians"):
            viewer.require_verified()


def test_a_missing_role_is_named() -> None:
    moderator = _viewer((Role.MEMBER, Role.MODERATOR))
    assert moderator.require_role(Role.MODERATOR, Role.ADMIN) is moderator
    with pytest.raises(PermissionDenied, match="the MODERATOR or ADMIN role"):
        _viewer().require_role(Role.MODERATOR, Role.ADMIN)
