"""The demo content `make dev` seeds: types here, the text in demo_posts.json beside this file.

The text reads like doctors talking, and passes content's patient-identifier guard: ages only
as bands, no names, places, dates, numbers that look like identifiers. Case specialty tags are
NUCC taxonomy codes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_DATA = Path(__file__).with_name("demo_posts.json")


@dataclass(frozen=True, slots=True)
class DemoCase:
    """The structured part of a CASE post; ages only as bands, never exact."""

    age_band: str  # NEONATE INFANT CHILD ADOLESCENT YOUNG_ADULT MIDDLE_AGED OLDER_ADULT NINETY_PLUS
    sex: str  # FEMALE MALE INTERSEX UNDISCLOSED
    presenting_complaint: str
    history: str
    question: str
    specialty_tags: tuple[str, ...]  # NUCC taxonomy codes, e.g. 207RC0000X


@dataclass(frozen=True, slots=True)
class DemoComment:
    """A comment; `reply_to` indexes an earlier comment of the same post."""

    body: str
    visibility: str  # IDENTIFIED PSEUDONYMOUS ANONYMOUS
    reply_to: int | None = None
    by_author: bool = False


@dataclass(frozen=True, slots=True)
class DemoPost:
    """A post with its thread; reactions and votes are cast by other demo members."""

    community: str
    kind: str  # CASE DISCUSSION POLL
    visibility: str  # IDENTIFIED PSEUDONYMOUS ANONYMOUS
    title: str
    body: str
    case: DemoCase | None = None
    poll_options: tuple[str, ...] = ()
    comments: tuple[DemoComment, ...] = ()
    reactions: int = 0
    votes: tuple[int, ...] = ()


def _post(raw: dict[str, Any]) -> DemoPost:
    case = raw.get("case")
    return DemoPost(
        community=raw["community"],
        kind=raw["kind"],
        visibility=raw["visibility"],
        title=raw["title"],
        body=raw["body"],
        case=DemoCase(**{**case, "specialty_tags": tuple(case["specialty_tags"])})
        if case
        else None,
        poll_options=tuple(raw.get("poll_options", ())),
        comments=tuple(DemoComment(**c) for c in raw.get("comments", ())),
        reactions=int(raw.get("reactions", 0)),
        votes=tuple(raw.get("votes", ())),
    )


def load_demo_posts(path: Path = _DATA) -> tuple[DemoPost, ...]:
    """The demo posts, in seeding order."""
    return tuple(_post(raw) for raw in json.loads(path.read_text(encoding="utf-8")))
