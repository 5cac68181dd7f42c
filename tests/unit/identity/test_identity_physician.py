"""The Physician entity: verification lifecycle, suspension, roles, erasure and role checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from plumbing.errors import ErrorCode, FailedPrecondition, PermissionDenied
from services.identity.domain.physician import (
    Physician,
    Role,
    VerificationStatus,
    is_user_id,
    new_user_id,
    require_role,
)
from services.identity.domain.validation import validate_registration

PENDING = VerificationStatus.PENDING
VERIFIED = VerificationStatus.VERIFIED
REJECTED = VerificationStatus.REJECTED
SUSPENDED = VerificationStatus.SUSPENDED
CREATED = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def make(status: VerificationStatus = PENDING, **changes: Any) -> Physician:
    """A physician in `status`; a SUSPENDED one was VERIFIED before."""
    registration = validate_registration(
        email="jane.doe@example.org",
        password="Tachycardia-at-dawn 7",
        full_name="Jane Doe",
        npi="1234567893",
        specialty_code="207RC0000X",
        country="US",
    )
    physician = Physician.register(registration, user_id=new_user_id(), now=CREATED)
    if status is SUSPENDED:
        physician = replace(physician, verification=VERIFIED).suspend()
    elif status is not PENDING:
        physician = replace(physician, verification=status)
    return replace(physician, **changes)


# --- registration ---------------------------------------------------------------------


def test_registration_makes_a_pending_member() -> None:
    physician = make()
    assert physician.verification is PENDING
    assert physician.roles == frozenset({Role.MEMBER})
    assert physician.created_at == CREATED
    assert (physician.email, physician.full_name, physician.npi) == (
        "jane.doe@example.org",
        "Jane Doe",
        "1234567893",
    )
    assert (physician.specialty_code, physician.country) == ("207RC0000X", "US")
    assert not physician.erased
    assert physician.suspended_from is None
    assert not physician.is_verified


# --- verification ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "approve", "end"),
    [
        (PENDING, True, VERIFIED),
        (PENDING, False, REJECTED),
        (REJECTED, True, VERIFIED),  # an admin may overturn a rejection
    ],
)
def test_allowed_verification_outcomes(
    start: VerificationStatus, approve: bool, end: VerificationStatus
) -> None:
    before = make(start)
    after = before.verify(approve=approve)
    assert after.verification is end
    assert before.verification is start, "entities are immutable"
    assert after.is_verified is (end is VERIFIED)


@pytest.mark.parametrize(
    ("start", "approve", "reason"),
    [
        (VERIFIED, True, "already verified"),
        (VERIFIED, False, "already verified"),
        (REJECTED, False, "already rejected"),
        (SUSPENDED, True, "suspended; reinstate them first"),
        (SUSPENDED, False, "suspended; reinstate them first"),
    ],
)
def test_forbidden_verification_outcomes(
    start: VerificationStatus, approve: bool, reason: str
) -> None:
    with pytest.raises(FailedPrecondition, match=reason) as caught:
        make(start).verify(approve=approve)
    assert caught.value.code is ErrorCode.FAILED_PRECONDITION


# --- suspension -----------------------------------------------------------------------


@pytest.mark.parametrize("start", [PENDING, VERIFIED])
def test_suspension_remembers_and_reinstatement_restores(start: VerificationStatus) -> None:
    suspended = make(start).suspend()
    assert suspended.verification is SUSPENDED
    assert suspended.suspended_from is start
    assert not suspended.is_verified
    reinstated = suspended.reinstate()
    assert reinstated.verification is start
    assert reinstated.suspended_from is None


@pytest.mark.parametrize(
    ("start", "reason"), [(SUSPENDED, "is suspended"), (REJECTED, "is rejected")]
)
def test_only_pending_or_verified_physicians_can_be_suspended(
    start: VerificationStatus, reason: str
) -> None:
    with pytest.raises(FailedPrecondition, match=f"cannot suspend: the physician {reason}"):
        make(start).suspend()


@pytest.mark.parametrize("start", [PENDING, VERIFIED, REJECTED])
def test_only_suspended_physicians_can_be_reinstated(start: VerificationStatus) -> None:
    with pytest.raises(FailedPrecondition, match="not suspended"):
        make(start).reinstate()


# --- roles ----------------------------------------------------------------------------


def test_roles_always_include_member() -> None:
    physician = make().with_roles([Role.ADMIN, Role.AUDITOR])
    assert physician.roles == frozenset({Role.MEMBER, Role.ADMIN, Role.AUDITOR})
    assert physician.with_roles([]).roles == frozenset({Role.MEMBER})


# --- erasure --------------------------------------------------------------------------


@pytest.mark.parametrize("start", [PENDING, VERIFIED, REJECTED, SUSPENDED])
def test_erasure_leaves_a_tombstone(start: VerificationStatus) -> None:
    before = make(start).with_roles([Role.MODERATOR])
    erased = before.erase()
    assert erased.erased
    assert (erased.email, erased.full_name, erased.npi) == ("", "", "")
    assert (erased.specialty_code, erased.country) == ("", "")
    assert erased.roles == frozenset({Role.MEMBER})
    # What audit records need to say "an erased account" stays.
    assert erased.user_id == before.user_id
    assert erased.created_at == before.created_at
    assert erased.verification is before.verification
    assert not erased.is_verified
    for personal in ("jane", "Jane Doe", "1234567893", "207RC0000X"):
        assert personal not in repr(erased)


def test_erasing_twice_is_harmless() -> None:
    erased = make(VERIFIED).erase()
    assert erased.erase() == erased


@pytest.mark.parametrize(
    "action",
    [
        lambda p: p.verify(approve=True),
        lambda p: p.verify(approve=False),
        lambda p: p.suspend(),
        lambda p: p.reinstate(),
        lambda p: p.with_roles([Role.ADMIN]),
    ],
    ids=["approve", "reject", "suspend", "reinstate", "roles"],
)
@pytest.mark.parametrize("start", [PENDING, SUSPENDED, REJECTED])
def test_an_erased_physician_accepts_no_change(
    action: Callable[[Physician], Physician], start: VerificationStatus
) -> None:
    with pytest.raises(FailedPrecondition, match="the account was erased"):
        action(make(start).erase())


# --- invariants -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"roles": frozenset({Role.ADMIN})}, "MEMBER"),
        ({"verification": SUSPENDED}, "suspended_from"),
        ({"suspended_from": PENDING}, "suspended_from"),
        ({"created_at": datetime(2025, 1, 1)}, "timezone-aware"),
    ],
)
def test_broken_invariants_are_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        make(**changes)


def test_only_pending_or_verified_can_be_a_suspension_origin() -> None:
    with pytest.raises(ValueError, match="PENDING or VERIFIED"):
        make(SUSPENDED, suspended_from=REJECTED)


# --- authorisation --------------------------------------------------------------------


def test_require_role_passes_with_any_allowed_role() -> None:
    require_role({Role.MEMBER, Role.MODERATOR}, Role.MODERATOR, Role.ADMIN)
    require_role([Role.ADMIN], Role.ADMIN)


def test_require_role_refuses_and_names_the_roles_needed() -> None:
    with pytest.raises(PermissionDenied) as caught:
        require_role({Role.MEMBER}, Role.MODERATOR, Role.ADMIN)
    assert caught.value.code is ErrorCode.PERMISSION_DENIED
    assert (
        caught.value.message == "permission denied: this action needs the MODERATOR or ADMIN role"
    )
    with pytest.raises(PermissionDenied, match="needs the AUDITOR role"):
        require_role([], Role.AUDITOR)


def test_require_role_needs_something_to_allow() -> None:
    with pytest.raises(ValueError, match="at least one"):
        require_role({Role.ADMIN})


# --- user ids -------------------------------------------------------------------------


def test_user_ids_have_the_documented_form() -> None:
    user_id = new_user_id()
    assert is_user_id(user_id)
    assert user_id.startswith("usr_")
    assert len(user_id) == 4 + 26


def test_user_ids_are_unique_and_use_the_whole_alphabet() -> None:
    ids = [new_user_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    used = set("".join(i[4:] for i in ids))
    assert used == set("abcdefghijklmnopqrstuvwxyz234567")
    # Every position varies, so no bits are stuck (a 130-bit id has no fixed characters).
    for position in range(4, 30):
        assert len({i[position] for i in ids}) > 20


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "usr_",
        "usr_" + "a" * 25,
        "usr_" + "a" * 27,
        "USR_" + "a" * 26,
        "usr_" + "A" * 26,
        "usr_" + "1" * 26,
        "pst_" + "a" * 26,
        " usr_" + "a" * 26,
    ],
)
def test_malformed_user_ids_are_recognised(bad: str) -> None:
    assert not is_user_id(bad)
