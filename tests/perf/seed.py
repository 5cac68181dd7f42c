"""The bench's fixed data set: the same physicians, posts, comments, reactions and polls each run.

Everything goes through GraphQL as members would write it (one alias-bearing write per
request), so the stores hold what production holds; only the accounts are stored directly
(VERIFIED, as registration cannot verify). Sizes scale with `Shape`; contents never vary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from perf.queries import CREATE_POST
from support.system import System

COMMUNITIES = ("emergency-medicine", "second-opinions", "lounge-stories", "critical-care")
VISIBILITIES = ("PSEUDONYMOUS", "ANONYMOUS", "IDENTIFIED")
REACTIONS = ("LIKE", "INSIGHTFUL", "AGREE", "SUPPORT")
COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"""
REACT = """mutation($p: ID!, $r: Reaction!) { react(postId: $p, reaction: $r) { id } }"""
VOTE = """mutation($p: ID!, $o: Int!) { votePoll(postId: $p, option: $o) { totalVotes } }"""


@dataclass(frozen=True)
class Shape:
    physicians: int
    posts: int
    comments_per_post: int
    big_post_comments: int
    reactions_per_post: int


FULL = Shape(
    physicians=8, posts=40, comments_per_post=3, big_post_comments=20, reactions_per_post=3
)
SMOKE = Shape(physicians=2, posts=3, comments_per_post=1, big_post_comments=2, reactions_per_post=1)


@dataclass
class Seeded:
    reader: str  # a VERIFIED reader who wrote nothing
    writers: list[str]
    big_post: str
    posts: list[str] = field(default_factory=list)


def post_input(number: int) -> dict[str, object]:
    """The `number`th post: discussions, polls and cases in turn, over four communities."""
    kind = ("DISCUSSION", "POLL", "CASE")[number % 3]
    values: dict[str, object] = {
        "kind": kind,
        "community": COMMUNITIES[number % len(COMMUNITIES)],
        "title": f"Night shift note {number}: lactate, fluids and the ward",
        "body": "Seen on the ward today; thoughts on the workup welcome. " * 3,
        "visibility": VISIBILITIES[number % len(VISIBILITIES)],
    }
    if kind == "POLL":
        values["pollOptions"] = ["Repeat lactate", "Start pressors", "Wait and see"]
    if kind == "CASE":
        values["case"] = {
            "ageBand": "OLDER_ADULT",
            "sex": "FEMALE",
            "presentingComplaint": "Fever and confusion after a ward transfer",
            "history": "Two days of cough; lactate 3.1 on arrival.",
            "question": "Sepsis workup first or imaging first?",
            "specialtyTags": ["207P00000X"],
        }
    return values


async def seed(system: System, shape: Shape) -> Seeded:
    writers = [(await system.account())[1] for _ in range(shape.physicians)]
    _, reader = await system.account()
    posts: list[str] = []
    for number in range(shape.posts):
        author = writers[number % len(writers)]
        body = await system.graphql(CREATE_POST, {"input": post_input(number)}, token=author)
        post_id = body["data"]["createPost"]["id"]
        posts.append(post_id)
        for c in range(shape.comments_per_post):
            await _comment(system, writers[(number + c + 1) % len(writers)], post_id, c)
        for r in range(shape.reactions_per_post):
            who = writers[(number + r) % len(writers)]
            await system.graphql(REACT, {"p": post_id, "r": REACTIONS[r % 4]}, token=who)
            if number % 3 == 1:
                await system.graphql(VOTE, {"p": post_id, "o": r % 3}, token=who)
    big_post = posts[0]
    for c in range(shape.comments_per_post, shape.big_post_comments):
        await _comment(system, writers[c % len(writers)], big_post, c)
    return Seeded(reader=reader, writers=writers, big_post=big_post, posts=posts)


async def _comment(system: System, token: str, post_id: str, number: int) -> None:
    variables = {
        "input": {
            "postId": post_id,
            "body": f"Comment {number}: agreed, repeat the lactate before anything else.",
            "visibility": VISIBILITIES[number % len(VISIBILITIES)],
        }
    }
    await system.graphql(COMMENT, variables, token=token)
