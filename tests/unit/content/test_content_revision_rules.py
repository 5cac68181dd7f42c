"""An author changing their mind: who may, what an edit may change, what a tombstone keeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from plumbing.errors import ErrorCode, InvalidArgument, NotFound, PermissionDenied
from services.content.domain.feeds import FeedFilter, feed_filter
from services.content.domain.posts import (
    AgeBand,
    Case,
    CaseFacts,
    CaseStatus,
    Comment,
    Post,
    PostKind,
    Sex,
    redacted,
    redacted_comment,
)
from services.content.domain.revisions import (
    deleted_comment,
    deleted_post,
    edited_comment,
    edited_post,
    require_author,
    require_live_comment,
    require_live_post,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
FACTS = CaseFacts(
    AgeBand.OLDER_ADULT,
    Sex.FEMALE,
    "Progressive dyspnoea over 3 weeks",
    "HFrEF, EF 30%",
    "Would you add an SGLT2 inhibitor with eGFR 28?",
    ("207RC0000X",),
)
CASE = Post(
    post_id="pst_1",
    kind=PostKind.CASE,
    community_id="cardiology",
    thread_scope_id="scp_1",
    author_alias_id="als_author",
    title="Dyspnoea in HFrEF",
    body="Details below.",
    created_at=NOW - timedelta(days=1),
    case=Case(FACTS),
)
DISCUSSION = replace(CASE, kind=PostKind.DISCUSSION, case=None)
COMMENT = Comment("cmt_1", "pst_1", "", "als_author", "Agreed.", NOW - timedelta(hours=1))


def test_only_the_alias_it_was_written_under_is_the_author() -> None:
    require_author("als_author", "als_author", "edit this post")
    with pytest.raises(PermissionDenied) as refused:
        require_author("als_author", "als_other", "edit this post")
    assert refused.value.code is ErrorCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    "post", [None, replace(CASE, hidden=True), replace(CASE, deleted=True)], ids=str
)
def test_unknown_hidden_and_deleted_posts_are_all_not_found(post: Post | None) -> None:
    with pytest.raises(NotFound):
        require_live_post(post)


def test_hidden_and_deleted_comments_are_not_found() -> None:
    assert require_live_comment(COMMENT) is COMMENT
    for gone in (None, replace(COMMENT, hidden=True), replace(COMMENT, deleted=True)):
        with pytest.raises(NotFound):
            require_live_comment(gone)


def test_an_edit_replaces_the_text_keeps_the_case_status_and_stamps_the_time() -> None:
    solved = CASE.solve("Started dapagliflozin.", NOW - timedelta(hours=2))
    new_facts = replace(FACTS, question="Dapagliflozin or empagliflozin?")
    edited = edited_post(solved, "New title", "New body", new_facts, NOW)
    assert (edited.title, edited.body, edited.edited_at) == ("New title", "New body", NOW)
    assert edited.case is not None and edited.case.facts == new_facts
    assert edited.case.status is CaseStatus.SOLVED, "editing does not reopen a solved case"
    kept = edited_post(CASE, "T", "B", None, NOW)
    assert kept.case is not None and kept.case.facts == FACTS, "no facts given: they stay"


def test_an_edit_runs_the_identifier_guard_and_the_new_post_rules_again() -> None:
    with pytest.raises(InvalidArgument) as refused:
        edited_post(CASE, "", "Call her on 212-736-5000", None, NOW)
    fields = {v.field for v in refused.value.violations}
    assert fields == {"title", "body"}
    with pytest.raises(InvalidArgument) as refused:
        edited_post(CASE, "T", "B", replace(FACTS, history="MRN: 12345678"), NOW)
    assert [v.field for v in refused.value.violations] == ["case.history"]
    with pytest.raises(InvalidArgument) as refused:
        edited_post(DISCUSSION, "T", "B", FACTS, NOW)
    assert [v.field for v in refused.value.violations] == ["case"]
    with pytest.raises(InvalidArgument) as refused:
        edited_comment(COMMENT, "Her SSN is 123-45-6789", NOW)
    assert [v.field for v in refused.value.violations] == ["body"]
    assert edited_comment(COMMENT, "On reflection, no.", NOW).edited_at == NOW


def test_a_deleted_post_keeps_no_text_the_author_wrote() -> None:
    solved = CASE.solve("Outcome text", NOW)
    tomb = deleted_post(solved)
    assert tomb.deleted and (tomb.title, tomb.body) == ("", "")
    assert tomb.case is not None
    assert (tomb.case.facts.presenting_complaint, tomb.case.resolution) == ("", "")
    shown = redacted(replace(DISCUSSION, deleted=True, poll_options=("a", "b")))
    assert (shown.title, shown.body, shown.poll_options) == ("", "", ())


def test_a_deleted_comment_shows_neither_body_nor_author_alias() -> None:
    shown = redacted_comment(deleted_comment(replace(COMMENT, request_id="r1")))
    assert shown.deleted
    assert (shown.body, shown.author_alias_id, shown.request_id) == ("", "", "")
    assert (shown.comment_id, shown.post_id) == (COMMENT.comment_id, COMMENT.post_id)
    hidden = redacted_comment(replace(COMMENT, hidden=True))
    assert hidden.body == "" and hidden.author_alias_id == "als_author"


def test_feed_filters() -> None:
    assert feed_filter("", (), False, None) == FeedFilter()
    assert feed_filter("cardiology", (), False, None).community_ids == ("cardiology",)
    following = feed_filter("", ("a", "b", "a"), True, CaseStatus.OPEN)
    assert following == FeedFilter(("a", "b"), CaseStatus.OPEN)
    assert feed_filter("", (), True, None).empty, "following nothing: an empty feed"
    with pytest.raises(InvalidArgument):
        feed_filter("cardiology", ("a",), True, None)
    with pytest.raises(InvalidArgument):
        feed_filter("", ("a",), False, None)
