"""Posts (cases, discussions, polls) and comments: the records, and the rules for new ones."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import datetime

from plumbing.errors import FieldViolation, InvalidArgument
from services.content.domain.guard import check_fields

MAX_TITLE = 300
MAX_BODY = 40_000
MAX_COMMENT = 10_000
MAX_CASE_FIELD = 10_000
MAX_RESOLUTION = 10_000
MAX_POLL_OPTION = 200
MIN_POLL_OPTIONS, MAX_POLL_OPTIONS = 2, 10
MAX_SPECIALTY_TAGS = 5
MAX_REQUEST_ID = 64
#: NUCC taxonomy codes: ten characters, the last an "X" (e.g. 207RC0000X).
_NUCC_CODE = re.compile(r"[0-9]{3}[0-9A-Z]{6}X")


class PostKind(enum.Enum):
    CASE = "CASE"
    DISCUSSION = "DISCUSSION"
    POLL = "POLL"


class AgeBand(enum.Enum):
    """HIPAA Safe Harbor allows no age above 89: those patients are all NINETY_PLUS."""

    NEONATE = "NEONATE"
    INFANT = "INFANT"
    CHILD = "CHILD"
    ADOLESCENT = "ADOLESCENT"
    YOUNG_ADULT = "YOUNG_ADULT"
    MIDDLE_AGED = "MIDDLE_AGED"
    OLDER_ADULT = "OLDER_ADULT"
    NINETY_PLUS = "NINETY_PLUS"


class Sex(enum.Enum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    INTERSEX = "INTERSEX"
    UNDISCLOSED = "UNDISCLOSED"


class CaseStatus(enum.Enum):
    OPEN = "OPEN"
    SOLVED = "SOLVED"


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the author enters about a case."""

    age_band: AgeBand | None
    sex: Sex | None
    presenting_complaint: str
    history: str
    question: str
    specialty_tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    """A stored case: the facts plus where it stands."""

    facts: CaseFacts
    status: CaseStatus = CaseStatus.OPEN
    resolution: str = ""
    solved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """A post as stored. `hidden` is derived: its author alias is hidden by moderation."""

    post_id: str
    kind: PostKind
    community_id: str
    thread_scope_id: str
    author_alias_id: str
    title: str
    body: str
    created_at: datetime
    case: Case | None = None
    poll_options: tuple[str, ...] = ()
    poll_closes_at: datetime | None = None
    request_id: str = ""
    hidden: bool = False
    edited_at: datetime | None = None
    deleted: bool = False

    def solve(self, resolution: str, now: datetime) -> Post:
        """Solved with `resolution`; solving again amends the resolution, not the time."""
        assert self.case is not None
        solved_at = self.case.solved_at or now
        case = replace(
            self.case, status=CaseStatus.SOLVED, resolution=resolution, solved_at=solved_at
        )
        return replace(self, case=case)


@dataclass(frozen=True, slots=True)
class Comment:
    comment_id: str
    post_id: str
    parent_id: str
    author_alias_id: str
    body: str
    created_at: datetime
    request_id: str = ""
    hidden: bool = False
    edited_at: datetime | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class PostDraft:
    """A post as asked for, before it gets an id and a time."""

    kind: PostKind | None
    community_id: str
    thread_scope_id: str
    author_alias_id: str
    title: str
    body: str
    case: CaseFacts | None
    poll_options: tuple[str, ...]
    poll_closes_at: datetime | None
    request_id: str = ""


def _length(field: str, value: str, *, low: int, high: int) -> FieldViolation | None:
    if len(value.strip()) < low:
        return FieldViolation(field, "is required" if low == 1 else f"needs {low}+ characters")
    if len(value) > high:
        return FieldViolation(field, f"is longer than {high:,} characters; shorten it")
    return None


def _case_violations(case: CaseFacts) -> list[FieldViolation | None]:
    found: list[FieldViolation | None] = [
        _length("case.presenting_complaint", case.presenting_complaint, low=1, high=MAX_CASE_FIELD),
        _length("case.history", case.history, low=0, high=MAX_CASE_FIELD),
        _length("case.question", case.question, low=1, high=MAX_CASE_FIELD),
    ]
    if case.age_band is None:
        found.append(FieldViolation("case.age_band", "is required; choose the patient's band"))
    if case.sex is None:
        found.append(FieldViolation("case.sex", "is required (UNDISCLOSED is allowed)"))
    if len(case.specialty_tags) > MAX_SPECIALTY_TAGS:
        found.append(FieldViolation("case.specialty_tags", f"at most {MAX_SPECIALTY_TAGS} tags"))
    for index, tag in enumerate(case.specialty_tags):
        if _NUCC_CODE.fullmatch(tag) is None:
            found.append(
                FieldViolation(
                    f"case.specialty_tags[{index}]", "is not a NUCC taxonomy code like 207RC0000X"
                )
            )
    return found


def _kind_violations(draft: PostDraft, now: datetime) -> list[FieldViolation | None]:
    found: list[FieldViolation | None] = []
    if draft.kind is PostKind.CASE and draft.case is None:
        found.append(FieldViolation("case", "is required for a CASE post"))
    if draft.kind is not PostKind.CASE and draft.case is not None:
        found.append(FieldViolation("case", "is only for CASE posts; leave it unset"))
    if draft.case is not None:
        found.extend(_case_violations(draft.case))
    if draft.kind is PostKind.POLL:
        count = len(draft.poll_options)
        if not MIN_POLL_OPTIONS <= count <= MAX_POLL_OPTIONS:
            found.append(
                FieldViolation(
                    "poll_options",
                    f"a poll needs {MIN_POLL_OPTIONS} to {MAX_POLL_OPTIONS} options, not {count}",
                )
            )
        for index, option in enumerate(draft.poll_options):
            found.append(_length(f"poll_options[{index}]", option, low=1, high=MAX_POLL_OPTION))
        if len({o.strip().casefold() for o in draft.poll_options}) < count:
            found.append(FieldViolation("poll_options", "options must differ from each other"))
        if draft.poll_closes_at is not None and draft.poll_closes_at <= now:
            found.append(FieldViolation("poll_closes_at", "must lie in the future"))
    else:
        if draft.poll_options:
            found.append(FieldViolation("poll_options", "are only for POLL posts"))
        if draft.poll_closes_at is not None:
            found.append(FieldViolation("poll_closes_at", "is only for POLL posts"))
    return found


def validate_draft(draft: PostDraft, now: datetime) -> None:
    """INVALID_ARGUMENT naming every bad field, identifier hits included; else returns."""
    found: list[FieldViolation | None] = []
    if draft.kind is None:
        found.append(FieldViolation("kind", "is required: CASE, DISCUSSION or POLL"))
    found.append(_length("title", draft.title, low=1, high=MAX_TITLE))
    body_min = 0 if draft.kind is PostKind.POLL else 1
    found.append(_length("body", draft.body, low=body_min, high=MAX_BODY))
    if len(draft.request_id) > MAX_REQUEST_ID:
        found.append(FieldViolation("request_id", f"at most {MAX_REQUEST_ID} characters"))
    found.extend(_kind_violations(draft, now))
    violations = [v for v in found if v is not None]
    violations.extend(identifier_violations(_texts_of(draft)))
    if violations:
        raise InvalidArgument(violations)


def _texts_of(draft: PostDraft) -> list[tuple[str, str]]:
    texts = [("title", draft.title), ("body", draft.body)]
    if draft.case is not None:
        texts += [
            ("case.presenting_complaint", draft.case.presenting_complaint),
            ("case.history", draft.case.history),
            ("case.question", draft.case.question),
        ]
    texts += [(f"poll_options[{i}]", o) for i, o in enumerate(draft.poll_options)]
    return texts


def identifier_violations(texts: list[tuple[str, str]]) -> list[FieldViolation]:
    """The guard's findings as field violations (the matched text is never repeated)."""
    return [FieldViolation(f.field, f.description) for f in check_fields(texts)]


def validate_comment_body(body: str) -> None:
    violation = _length("body", body, low=1, high=MAX_COMMENT)
    found = [violation] if violation else []
    found.extend(identifier_violations([("body", body)]))
    if found:
        raise InvalidArgument(found)


def validate_resolution(resolution: str) -> None:
    violation = _length("resolution", resolution, low=0, high=MAX_RESOLUTION)
    found = [violation] if violation else []
    found.extend(identifier_violations([("resolution", resolution)]))
    if found:
        raise InvalidArgument(found)


@dataclass(frozen=True, slots=True)
class Community:
    community_id: str
    name: str
    description: str


def redacted(post: Post) -> Post:
    """A hidden or deleted post as readers get it: its place in the thread, none of its words."""
    if not (post.hidden or post.deleted):
        return post
    case = post.case
    if case is not None:
        blank = replace(case.facts, presenting_complaint="", history="", question="")
        case = replace(case, facts=blank, resolution="")
    return replace(post, title="", body="", case=case, poll_options=())


def redacted_comment(comment: Comment) -> Comment:
    """Hidden: no body. Deleted: a tombstone, with no body and no author alias either, so
    that nothing shows who wrote what its author took back."""
    if comment.deleted:
        return replace(comment, body="", author_alias_id="", request_id="")
    return replace(comment, body="") if comment.hidden else comment
