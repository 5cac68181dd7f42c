"""Who is asking: bearer tokens verified offline with identity's public keys."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from gateway.clients.identity import IdentityClient
from plumbing.auth import AccessClaims, Role, VerificationStatus
from plumbing.auth.remote import RemoteTokenVerifier
from plumbing.errors import DomainError, PermissionDenied, Unauthenticated
from plumbing.grpc.caller import bearer_metadata

log = logging.getLogger("consilium.gateway.auth")

#: Roles that read content without being VERIFIED physicians themselves.
STAFF = (Role.MODERATOR, Role.AUDITOR, Role.ADMIN)

#: Why an account that is signed in may not read content, and what to do about it.
_CANNOT_READ = {
    VerificationStatus.PENDING: (
        "discussions are for verified physicians: an admin is still checking your NPI; "
        "until then `me` shows your verification status"
    ),
    VerificationStatus.REJECTED: (
        "discussions are for verified physicians and your verification was rejected; "
        "if your NPI or specialty was wrong, contact support to be checked again"
    ),
    VerificationStatus.SUSPENDED: (
        "your account is suspended, so discussions are closed to you; contact the moderators"
    ),
    VerificationStatus.VERIFIED: "this needs a verified physician",  # not reached
}

#: Fetch the key set again at most this often when a token names an unknown key.
_REFRESH_INTERVAL = 30.0


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in physician of this request."""

    claims: AccessClaims
    token: str = field(repr=False)

    @property
    def user_id(self) -> str:
        return self.claims.user_id

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        """gRPC metadata forwarding the token, for identity and anonymity only."""
        return bearer_metadata(self.token)

    def require_verified(self) -> Viewer:
        if self.claims.verification is not VerificationStatus.VERIFIED:
            raise PermissionDenied(
                "only verified physicians can post, comment, react or vote; "
                "an admin verifies new accounts after checking the NPI"
            )
        return self

    def require_reader(self) -> Viewer:
        """Content is for physicians: VERIFIED ones, and staff (whose own NPI check may
        still be pending). A suspension stops reading too, whatever the roles."""
        status = self.claims.verification
        if status is not VerificationStatus.SUSPENDED and (
            status is VerificationStatus.VERIFIED or self.claims.has_role(*STAFF)
        ):
            return self
        raise PermissionDenied(_CANNOT_READ[status])

    def require_role(self, *roles: Role) -> Viewer:
        if not self.claims.has_role(*roles):
            names = " or ".join(r.value for r in roles)
            raise PermissionDenied(f"this needs the {names} role")
        return self


@dataclass(frozen=True, slots=True)
class Authentication:
    """The outcome for one request: a viewer, nobody, or why the token was refused."""

    viewer: Viewer | None = None
    error: DomainError | None = None

    def require(self) -> Viewer:
        if self.error is not None:
            raise self.error
        if self.viewer is None:
            raise Unauthenticated("sign in first: send `Authorization: Bearer <token>` from login")
        return self.viewer

    def require_reader(self) -> Viewer:
        """Every read of content (posts, comments, personas, live updates) goes through this."""
        if self.error is None and self.viewer is None:
            raise Unauthenticated(
                "Consilium's discussions are for verified physicians: sign in with `login` "
                "and send `Authorization: Bearer <token>`"
            )
        return self.require().require_reader()


class Authenticator:
    """Verifies tokens offline; the key set comes from identity and follows key rotation."""

    def __init__(self, identity: IdentityClient) -> None:
        self._verifier = RemoteTokenVerifier(identity.public_keys)

    async def authenticate(self, authorization: str | None) -> Authentication:
        if not authorization:
            return Authentication()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            error = Unauthenticated("the Authorization header must be `Bearer <token>`")
            return Authentication(error=error)
        token = token.strip()
        try:
            claims = await self._verifier.claims(token)
        except DomainError as exc:
            return Authentication(error=exc)
        assert claims is not None  # a non-empty token gives claims or raises
        return Authentication(viewer=Viewer(claims, token))
