"""Live staff checks: an actor's current status and roles from identity, cached at most ~1 s.

A token's roles and status are as old as the token (15 minutes by default); a suspended or
demoted moderator, auditor or admin must lose their powers at once. Before a staff action,
anonymity and audit ask identity's `CheckActor` with their service credential and refuse
what the account no longer allows:

    live = LiveStaffCheck(lambda: identity_stub, lambda: credentials.metadata(
        service="anonymity", audience="identity"))
    await live.require(claims, Role.MODERATOR, Role.ADMIN)   # PermissionDenied, or passes

The bound: an answer is reused for at most `ttl` seconds (1 s by default and at most
`MAX_TTL`), so a revocation takes effect within that time on every replica — for practical
purposes at once. Fail closed: when identity cannot be asked, the action is refused with
UNAVAILABLE rather than decided on the token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc

from consilium.identity.v1 import identity_pb2 as pb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.auth.claims import AccessClaims, Role, VerificationStatus
from plumbing.errors import PermissionDenied, Unavailable

__all__ = ["MAX_TTL", "ActorStanding", "LiveStaffCheck"]

log = logging.getLogger("consilium.auth.live")

#: The longest an answer may be reused: the time a revocation may take to bite.
MAX_TTL = 1.0

_STATUS = {
    pb.VERIFICATION_STATUS_PENDING: VerificationStatus.PENDING,
    pb.VERIFICATION_STATUS_VERIFIED: VerificationStatus.VERIFIED,
    pb.VERIFICATION_STATUS_REJECTED: VerificationStatus.REJECTED,
    pb.VERIFICATION_STATUS_SUSPENDED: VerificationStatus.SUSPENDED,
}
_ROLE = {
    pb.ROLE_MEMBER: Role.MEMBER,
    pb.ROLE_MODERATOR: Role.MODERATOR,
    pb.ROLE_AUDITOR: Role.AUDITOR,
    pb.ROLE_ADMIN: Role.ADMIN,
}
_UNREACHABLE = "the actor's current powers could not be checked with identity; try again shortly"

Metadata = Sequence[tuple[str, str]]
if TYPE_CHECKING:  # the async stub type exists in the stubs only
    StubFactory = Callable[[], identity_pb2_grpc.IdentityServiceAsyncStub]
else:
    StubFactory = Callable


@dataclass(frozen=True, slots=True)
class ActorStanding:
    """An account as identity holds it now: whether it exists, its status and roles."""

    exists: bool
    erased: bool = False
    verification: VerificationStatus | None = None
    roles: frozenset[Role] = frozenset()

    def refusal(self, *allowed: Role) -> str:
        """Why a staff action needing one of `allowed` is refused; empty when it is not."""
        if not self.exists or self.erased:
            return "permission denied: your account no longer exists"
        if self.verification is VerificationStatus.SUSPENDED:
            return "permission denied: your account is suspended; staff powers are withdrawn"
        if allowed and self.roles.isdisjoint(allowed):
            names = " or ".join(role.value for role in allowed)
            return f"permission denied: this action needs the {names} role"
        return ""


def standing_from_proto(reply: pb.CheckActorResponse) -> ActorStanding:
    """The reply as a standing; unknown statuses and roles grant nothing."""
    if not reply.exists:
        return ActorStanding(exists=False)
    return ActorStanding(
        exists=True,
        erased=reply.erased,
        verification=_STATUS.get(reply.verification),
        roles=frozenset(_ROLE[r] for r in reply.roles if r in _ROLE),
    )


class LiveStaffCheck:
    """Asks identity for actors' current standing; answers live at most `ttl` seconds."""

    def __init__(
        self,
        identity_stub: StubFactory,
        service_metadata: Callable[[], Metadata],
        *,
        ttl: float = MAX_TTL,
        timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= ttl <= MAX_TTL:
            raise ValueError(f"ttl must be between 0 and {MAX_TTL} seconds")
        self._stub = identity_stub
        self._metadata = service_metadata
        self._ttl = ttl
        self._timeout = timeout
        self._clock = clock
        self._cache: dict[str, tuple[float, ActorStanding]] = {}

    async def require(self, actor: AccessClaims, *allowed: Role) -> ActorStanding:
        """The actor's standing if it allows a staff action needing one of `allowed`.

        PermissionDenied (with the reason, for the caller's audit record) for an account
        that is gone, suspended or no longer holds the role, whatever the token says.
        """
        if not allowed:
            raise ValueError("require needs at least one allowed role")
        standing = await self.standing(actor.user_id)
        reason = standing.refusal(*allowed)
        if reason:
            raise PermissionDenied(reason)
        return standing

    async def standing(self, user_id: str) -> ActorStanding:
        """The account's current standing (reused for at most `ttl` seconds)."""
        now = self._clock()
        cached = self._cache.get(user_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            reply = await self._stub().CheckActor(
                pb.CheckActorRequest(user_id=user_id),
                metadata=tuple(self._metadata()),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            # The code only: details could quote the request.
            log.warning("live staff check failed (%s)", error.code().name)
            raise Unavailable(_UNREACHABLE) from None
        standing = standing_from_proto(reply)
        self._cache[user_id] = (now, standing)
        if len(self._cache) > 10_000:
            self._evict(now)
        return standing

    def forget(self, user_id: str) -> None:
        """Drops a cached answer (after this service itself changed the account)."""
        self._cache.pop(user_id, None)

    def _evict(self, now: float) -> None:
        for user_id, (at, _) in list(self._cache.items()):
            if now - at >= self._ttl:
                del self._cache[user_id]
