"""Live staff powers and change descriptions (services/identity/domain/staff.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from plumbing.errors import PermissionDenied
from services.identity.domain.physician import Physician, Role, VerificationStatus, new_user_id
from services.identity.domain.staff import change_fields, require_live, token_roles


def account(
    *roles: Role, verification: VerificationStatus = VerificationStatus.VERIFIED
) -> Physician:
    physician = Physician(
        user_id=new_user_id(),
        email="a@example.org",
        full_name="Dr. A",
        npi="1234567893",
        specialty_code="207RC0000X",
        country="US",
        verification=VerificationStatus.PENDING,
        roles=frozenset({Role.MEMBER, *roles}),
        created_at=datetime.now(UTC),
    )
    if verification is VerificationStatus.SUSPENDED:
        return physician.suspend()
    return replace(physician, verification=verification)


def test_a_live_admin_passes() -> None:
    require_live(account(Role.ADMIN), Role.ADMIN)


@pytest.mark.parametrize(
    ("current", "reason"),
    [
        (None, "no longer exists"),
        (account(Role.ADMIN).erase(), "no longer exists"),
        (account(Role.ADMIN, verification=VerificationStatus.SUSPENDED), "suspended"),
        (account(Role.MODERATOR), "needs the ADMIN role"),
    ],
    ids=["gone", "erased", "suspended", "demoted"],
)
def test_gone_suspended_or_demoted_actors_are_refused(
    current: Physician | None, reason: str
) -> None:
    with pytest.raises(PermissionDenied, match=reason):
        require_live(current, Role.ADMIN)


def test_a_suspended_account_gets_no_staff_roles_in_its_token() -> None:
    assert token_roles(account(Role.ADMIN)) == {Role.MEMBER, Role.ADMIN}
    suspended = account(Role.ADMIN, Role.MODERATOR, verification=VerificationStatus.SUSPENDED)
    assert token_roles(suspended) == {Role.MEMBER}


def test_changes_name_statuses_and_roles_never_personal_values() -> None:
    before = account(verification=VerificationStatus.PENDING)
    after = replace(before.verify(approve=True), roles=frozenset({Role.MEMBER, Role.AUDITOR}))
    assert change_fields(before, after) == (
        "verification: PENDING -> VERIFIED",
        "roles: MEMBER -> AUDITOR,MEMBER",
    )
    assert change_fields(before, before) == ()
    erased = before.erase()
    assert all("Dr. A" not in f and "@" not in f for f in change_fields(before, erased))
