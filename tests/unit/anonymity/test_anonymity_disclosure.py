"""Persona disclosure: badge, k-anonymous specialty, names only for IDENTIFIED; frozen once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from plumbing.auth import VerificationStatus
from services.anonymity.domain.aliases import AliasState, StoredAlias, Visibility
from services.anonymity.domain.personas import (
    Disclosure,
    Persona,
    PersonaAttributes,
    describe,
    freeze,
    unfrozen,
)

CARDIO = "207RC0000X"
OWNER = PersonaAttributes(
    user_id="usr_x",
    full_name="Dr Jane Roe",
    verification=VerificationStatus.VERIFIED,
    specialty_code=CARDIO,
    erased=False,
)
ALIAS = StoredAlias(
    alias_id="als_" + "a" * 26,
    visibility=Visibility.PSEUDONYMOUS,
    scope_id=None,
    state=AliasState.ACTIVE,
    created_at=datetime(2025, 1, 1, tzinfo=UTC),
    slot="s",
    owner_seal_kid="k",
    owner_sealed=b"x",
    owner_ciphertext=b"y",
)


def frozen_face(
    alias: StoredAlias, owner: PersonaAttributes | None, decided: Disclosure
) -> Persona:
    """The face frozen from `owner` and `decided`, as describe shows it afterwards."""
    frozen = freeze(alias, owner, decided)
    return describe(alias, frozen.persona, frozen.display_name)


def disclosure(count: int, k: int = 11) -> Disclosure:
    return Disclosure(
        k=k,
        verified_counts={CARDIO: count},
        specialty_names={CARDIO: "Cardiovascular Disease"},
        handle_number=lambda _alias: 4821,
    )


@pytest.mark.parametrize(("count", "shown"), [(10, False), (11, True), (500, True)])
def test_specialty_only_from_k_verified_members(count: int, shown: bool) -> None:
    persona = frozen_face(ALIAS, OWNER, disclosure(count))
    assert (persona.specialty is not None) is shown
    expected = "Anonymous Cardiologist 4821" if shown else "Anonymous Physician 4821"
    assert persona.handle == expected


def test_names_only_for_identified_aliases() -> None:
    assert frozen_face(ALIAS, OWNER, disclosure(20)).display_name is None
    named = replace(ALIAS, visibility=Visibility.IDENTIFIED)
    assert frozen_face(named, OWNER, disclosure(20)).display_name == "Dr Jane Roe"
    assert "Jane" not in frozen_face(named, OWNER, disclosure(20)).handle


@pytest.mark.parametrize(
    "status",
    [VerificationStatus.PENDING, VerificationStatus.SUSPENDED, VerificationStatus.REJECTED],
)
def test_unverified_owners_get_no_badge_and_no_specialty(status: VerificationStatus) -> None:
    persona = frozen_face(ALIAS, replace(OWNER, verification=status), disclosure(50))
    assert not persona.verified_physician and persona.specialty is None


def test_an_alias_hidden_when_frozen_keeps_no_badge() -> None:
    persona = frozen_face(replace(ALIAS, state=AliasState.SUSPENDED), OWNER, disclosure(50))
    assert not persona.verified_physician and persona.state is AliasState.SUSPENDED


def test_freezing_an_orphaned_or_erased_alias_discloses_nothing() -> None:
    named = replace(ALIAS, visibility=Visibility.IDENTIFIED)
    for alias, owner in (
        (replace(named, state=AliasState.ORPHANED, owner_sealed=None), None),
        (named, replace(OWNER, erased=True, full_name="")),
    ):
        persona = frozen_face(alias, owner, disclosure(50))
        assert persona.display_name is None and persona.specialty is None
        assert not persona.verified_physician
        assert persona.handle == "Anonymous Physician 4821"


def test_unknown_specialty_code_reads_as_name_physician() -> None:
    code = "207U00000X"
    persona = frozen_face(
        ALIAS,
        replace(OWNER, specialty_code=code),
        Disclosure(
            k=1,
            verified_counts={code: 3},
            specialty_names={code: "Nuclear Medicine"},
            handle_number=lambda _a: 1234,
        ),
    )
    assert persona.handle == "Anonymous Nuclear Medicine Physician 1234"


def test_a_frozen_face_ignores_every_later_change_of_the_owner() -> None:
    named = replace(ALIAS, visibility=Visibility.IDENTIFIED)
    frozen = freeze(named, OWNER, disclosure(20))
    # describe takes only the frozen face: the owner's later state cannot reach it.
    shown = describe(named, frozen.persona, frozen.display_name)
    assert shown.verified_physician and shown.specialty is not None
    assert shown.handle == "Anonymous Cardiologist 4821"
    erased = describe(named, frozen.persona, None)
    assert erased.display_name is None
    assert replace(shown, display_name=None) == erased, "erasure drops the name, nothing else"


def test_names_show_only_on_identified_aliases_even_if_one_is_given() -> None:
    frozen = freeze(ALIAS, OWNER, disclosure(20))
    assert describe(ALIAS, frozen.persona, "Dr Jane Roe").display_name is None


def test_an_unfrozen_alias_discloses_nothing() -> None:
    face = unfrozen(ALIAS, lambda _alias: 4821)
    shown = describe(ALIAS, face, None)
    assert shown.handle == "Anonymous Physician 4821"
    assert not shown.verified_physician and shown.specialty is None
