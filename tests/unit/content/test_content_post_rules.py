"""New-post rules (kinds, limits, identifiers) and what a poll shows a viewer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from plumbing.errors import InvalidArgument
from services.content.domain.engagement import poll_view
from services.content.domain.posts import (
    AgeBand,
    CaseFacts,
    Post,
    PostDraft,
    PostKind,
    Sex,
    validate_comment_body,
    validate_draft,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
FACTS = CaseFacts(
    AgeBand.OLDER_ADULT,
    Sex.FEMALE,
    "Progressive dyspnoea over 3 weeks",
    "HFrEF, EF 30%, on sacubitril/valsartan 49/51 mg bid",
    "Would you add an SGLT2 inhibitor with eGFR 28?",
    ("207RC0000X",),
)
CASE = PostDraft(
    PostKind.CASE,
    "cardiology",
    "scope1",
    "alias1",
    "Dyspnoea in HFrEF",
    "Details below.",
    FACTS,
    (),
    None,
)
POLL = PostDraft(
    PostKind.POLL,
    "lounge-careers",
    "scope2",
    "alias2",
    "Night shifts after 50?",
    "",
    None,
    ("Yes", "No", "Only with extra pay"),
    NOW + timedelta(days=2),
)


def fields_of(draft: PostDraft) -> list[str]:
    with pytest.raises(InvalidArgument) as caught:
        validate_draft(draft, NOW)
    return [v.field for v in caught.value.violations]


def test_valid_drafts_pass() -> None:
    validate_draft(CASE, NOW)
    validate_draft(POLL, NOW)


@pytest.mark.parametrize(
    ("draft", "fields"),
    [
        (replace(CASE, kind=None), ["kind", "case"]),
        (replace(CASE, title=" "), ["title"]),
        (replace(CASE, title="x" * 301), ["title"]),
        (replace(CASE, body=""), ["body"]),
        (replace(CASE, case=None), ["case"]),
        (replace(CASE, kind=PostKind.DISCUSSION), ["case"]),
        (
            replace(CASE, case=replace(FACTS, age_band=None, sex=None)),
            ["case.age_band", "case.sex"],
        ),
        (replace(CASE, case=replace(FACTS, question="")), ["case.question"]),
        (
            replace(CASE, case=replace(FACTS, specialty_tags=("cardio",))),
            ["case.specialty_tags[0]"],
        ),
        (replace(POLL, poll_options=("Only",)), ["poll_options"]),
        (replace(POLL, poll_options=tuple(str(i) for i in range(11))), ["poll_options"]),
        (replace(POLL, poll_options=("Yes", " ")), ["poll_options[1]"]),
        (replace(POLL, poll_options=("Yes", "yes")), ["poll_options"]),
        (replace(POLL, poll_closes_at=NOW), ["poll_closes_at"]),
        (replace(CASE, poll_options=("a", "b")), ["poll_options"]),
    ],
)
def test_bad_drafts_name_each_field(draft: PostDraft, fields: list[str]) -> None:
    assert fields_of(draft) == fields


def test_identifiers_are_refused_per_field_with_kind_and_position() -> None:
    draft = replace(
        CASE,
        body="Contact jd@example.org",
        case=replace(FACTS, history="Seen at 12 Oak Street clinic"),
        kind=PostKind.CASE,
    )
    with pytest.raises(InvalidArgument) as caught:
        validate_draft(draft, NOW)
    found = {v.field: v.description for v in caught.value.violations}
    assert set(found) == {"body", "case.history"}
    assert "EMAIL_ADDRESS" in found["body"] and "characters 8\u201322" in found["body"]
    assert "STREET_ADDRESS" in found["case.history"]
    assert "jd@example.org" not in caught.value.message + "".join(found.values())


def test_a_poll_option_with_an_identifier_is_named_by_index() -> None:
    assert fields_of(replace(POLL, poll_options=("Yes", "Call 617-555-0199"))) == [
        "poll_options[1]"
    ]


def test_comment_bodies_are_guarded() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_comment_body("Her MRN 99887766 is in the chart")
    assert caught.value.violations[0].field == "body"
    assert "MEDICAL_RECORD_NUMBER" in caught.value.violations[0].description


def _poll(closes_at: datetime | None) -> Post:
    return Post("pst_x", PostKind.POLL, "c", "s", "a", "Q?", "", NOW, None, ("A", "B"), closes_at)


def test_poll_results_are_hidden_until_the_viewer_votes() -> None:
    view = poll_view(_poll(None), {0: 3, 1: 1}, None, NOW)
    assert [o.votes for o in view.options] == [None, None]
    assert view.total_votes is None and not view.viewer_has_voted
    voted = poll_view(_poll(None), {0: 3, 1: 1}, 1, NOW)
    assert [o.votes for o in voted.options] == [3, 1] and voted.total_votes == 4


def test_poll_results_are_shown_to_everyone_once_closed() -> None:
    view = poll_view(_poll(NOW - timedelta(seconds=1)), {1: 2}, None, NOW)
    assert view.closed and [o.votes for o in view.options] == [0, 2]
