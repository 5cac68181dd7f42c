"""The demo corpus: every text passes content's identifier guard, and it covers what it claims."""

from __future__ import annotations

from itertools import product

from cli.demo_corpus import load_demo_posts
from services.content.domain.guard import scan

POSTS = load_demo_posts()
COMMUNITIES = {
    "cardiology",
    "internal-medicine",
    "family-medicine",
    "emergency-medicine",
    "pediatrics",
    "obstetrics-gynecology",
    "neurology",
    "psychiatry",
    "oncology",
    "infectious-disease",
    "surgery",
    "radiology",
    "dermatology",
    "critical-care",
    "second-opinions",
    "lounge-humor",
    "lounge-politics",
    "lounge-burnout",
    "lounge-careers",
    "lounge-stories",
    "lounge-news",
}


def texts() -> list[tuple[str, str]]:
    found = []
    for number, post in enumerate(POSTS):
        found += [(f"{number}.title", post.title), (f"{number}.body", post.body)]
        if post.case:
            found += [
                (f"{number}.case", post.case.presenting_complaint),
                (f"{number}.history", post.case.history),
                (f"{number}.question", post.case.question),
            ]
        found += [(f"{number}.option", option) for option in post.poll_options]
        found += [(f"{number}.comment", c.body) for c in post.comments]
    return found


def test_no_demo_text_carries_a_patient_identifier() -> None:
    flagged = [
        (where, [hit.kind.name for hit in scan(text)]) for where, text in texts() if scan(text)
    ]
    assert flagged == []


def test_every_community_kind_and_visibility_is_seeded() -> None:
    assert {p.community for p in POSTS} == COMMUNITIES
    seen = {(p.kind, p.visibility) for p in POSTS}
    assert seen == set(
        product(("CASE", "DISCUSSION", "POLL"), ("IDENTIFIED", "PSEUDONYMOUS", "ANONYMOUS"))
    )
    for post in POSTS:
        for comment in post.comments:
            assert comment.reply_to is None or comment.reply_to < post.comments.index(comment)
        assert all(0 <= vote < len(post.poll_options) for vote in post.votes)
