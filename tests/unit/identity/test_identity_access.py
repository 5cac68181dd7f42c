"""Identity accesses: the role an actor acted in, one access per subject, denials disclose nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from plumbing.auth.claims import AccessClaims, Role, VerificationStatus
from services.identity.domain.access import (
    PROFILE_FIELDS,
    AccessAction,
    AccessDecision,
    ActorRole,
    accesses,
    acting_role,
)

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def claims(*roles: Role) -> AccessClaims:
    return AccessClaims(
        user_id="usr_abcdefghijklmnopqrstuvwxyz",
        roles=frozenset({Role.MEMBER, *roles}),
        verification=VerificationStatus.VERIFIED,
        issued_at=NOW,
        expires_at=NOW,
        key_id="k1",
    )


def test_the_acting_role_is_the_preferred_one_when_held_else_the_strongest() -> None:
    both = claims(Role.MODERATOR, Role.ADMIN)
    assert acting_role(both, preferred=Role.MODERATOR) is ActorRole.MODERATOR
    assert acting_role(both) is ActorRole.ADMIN
    assert acting_role(claims(), preferred=Role.ADMIN) is ActorRole.MEMBER
    assert acting_role(claims(Role.AUDITOR)) is ActorRole.AUDITOR


def test_one_access_per_subject_granted_with_fields() -> None:
    made = accesses(
        ["usr_a", "usr_b"],
        occurred_at=NOW,
        actor_id="usr_admin",
        actor_role=ActorRole.ADMIN,
        action=AccessAction.READ_PROFILE,
        fields=PROFILE_FIELDS,
        purpose="admin profile read",
    )
    assert [a.subject_id for a in made] == ["usr_a", "usr_b"]
    assert {a.decision for a in made} == {AccessDecision.GRANTED}
    assert all(a.fields == PROFILE_FIELDS and a.denial_reason == "" for a in made)


def test_a_denied_access_discloses_no_fields() -> None:
    (made,) = accesses(
        ["usr_a"],
        occurred_at=NOW,
        actor_id="usr_member",
        actor_role=ActorRole.MEMBER,
        action=AccessAction.READ_PROFILE,
        fields=PROFILE_FIELDS,
        purpose="admin profile read",
        denial_reason="PERMISSION_DENIED: needs ADMIN",
    )
    assert made.decision is AccessDecision.DENIED
    assert made.fields == ()
    assert made.denial_reason == "PERMISSION_DENIED: needs ADMIN"
