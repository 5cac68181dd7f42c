"""Every GraphQL example in the README runs, as written, against the system with the dev seed's accounts.

The README is what a newcomer pastes into GraphiQL first; if an example stops working, this
fails. Examples run in the order the README gives them, as the account the README signs in with
(the auditor for auditor examples), with the variables of the ```json block that follows an
example directly (GraphiQL's Variables pane); the only substitution is a documented placeholder:
`"als_..."` stands for an alias id the reader copies from the feed, `"pst_..."` and
`"cmt_..."` for a CASE post of the reader's own and their comment on it (the examples of a
doctor's own content change them), `"ntf_..."` for one of the reader's notifications (another
doctor replied to that post). A subscription example runs over graphql-transport-ws: another
doctor replies to the reader's post until the subscription delivers the notification.
"""

from __future__ import annotations

import asyncio
import json
import re
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.live_socket import socket
from support.system import System, run_system

from services.identity.domain.passwords import HashParameters, Passwords
from services.identity.seed import DEMO_PASSWORD, seed_demo_physicians

README = Path(__file__).parents[2] / "README.md"
# Fences may be indented under a list item; a ```json fence right after one holds its variables.
BLOCK = re.compile(
    r"^[ \t]*```graphql\n(.*?)^[ \t]*```[ \t]*\n(?:[ \t]*```json\n(.*?)^[ \t]*```)?",
    re.MULTILINE | re.DOTALL,
)
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
REPLY = "mutation($i: AddCommentInput!) { addComment(input: $i) { id } }"
UNREAD = "{ notifications(first: 1) { unreadCount nodes { id } } }"
REPLIER = "admin@demo.consilium"


def readme_examples() -> list[tuple[str, str]]:
    """(document, variables JSON or "") of every GraphQL example, in README order."""
    return [
        (textwrap.dedent(block).strip(), textwrap.dedent(variables).strip())
        for block, variables in BLOCK.findall(README.read_text(encoding="utf-8"))
    ]


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    # The notification subscription looks at the index every 0.1 s here, not every 2 s.
    async with run_system(tmp_path / "data", events=True, notification_poll_seconds=0.1) as running:
        passwords = Passwords(HashParameters(time_cost=1, memory_cost_kib=64, parallelism=1))
        assert await seed_demo_physicians(running.identity.store, passwords) > 0
        yield running


async def _login(system: System, email: str) -> str:
    body = await system.graphql(LOGIN, {"e": email, "p": DEMO_PASSWORD})
    return str(body["data"]["login"]["token"])


async def _a_post_in_second_opinions(system: System) -> tuple[str, str]:
    """One demo member's post where the README's feed example looks; returns its author alias
    and its id."""
    member = await _login(system, "moderator@demo.consilium")
    values = {
        "kind": "DISCUSSION",
        "community": "second-opinions",
        "title": "Persistent cough after ACE inhibitor switch",
        "body": "Would you trial an ARB first or work up further?",
        "visibility": "PSEUDONYMOUS",
    }
    deadline = time.monotonic() + 30
    while True:  # anonymity learns of the seeded physicians through identity's events
        body = await system.graphql(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id author { aliasId } } }",
            {"i": values},
            token=member,
            expect_errors=True,
        )
        if not body.get("errors"):
            created = body["data"]["createPost"]
            return str(created["author"]["aliasId"]), str(created["id"])
        assert time.monotonic() < deadline, body["errors"]
        await asyncio.sleep(0.2)


async def _own_case_and_comment(system: System) -> tuple[str, str]:
    """A CASE post of the README's reader (the demo moderator) and their comment on it."""
    member = await _login(system, "moderator@demo.consilium")
    case = {
        "kind": "CASE",
        "community": "cardiology",
        "title": "Syncope on exertion in a young athlete",
        "body": "Normal resting ECG.",
        "visibility": "ANONYMOUS",
        "case": {
            "ageBand": "YOUNG_ADULT",
            "sex": "MALE",
            "presentingComplaint": "Two episodes of exertional syncope",
            "question": "Cardiac MRI before or after an exercise test?",
        },
    }
    body = await system.graphql(
        "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }", {"i": case}, token=member
    )
    post_id = str(body["data"]["createPost"]["id"])
    body = await system.graphql(
        "mutation($i: AddCommentInput!) { addComment(input: $i) { id } }",
        {"i": {"postId": post_id, "body": "Echo first, too.", "visibility": "ANONYMOUS"}},
        token=member,
    )
    return post_id, str(body["data"]["addComment"]["id"])


async def _reply(system: System, token: str, post_id: str) -> str:
    """Another doctor's comment on the reader's post: a notification for the reader."""
    body = await system.graphql(
        REPLY,
        {"i": {"postId": post_id, "body": "Exercise test first.", "visibility": "ANONYMOUS"}},
        token=token,
    )
    return str(body["data"]["addComment"]["id"])


async def _a_notification(system: System, reader: str, replier: str, post_id: str) -> str:
    """The id of the reader's notification of another doctor's reply to `post_id`."""
    deadline = time.monotonic() + 30
    while True:  # anonymity learns of the seeded replier through identity's events
        body = await system.graphql(
            REPLY,
            {"i": {"postId": post_id, "body": "Exercise test first.", "visibility": "ANONYMOUS"}},
            token=replier,
            expect_errors=True,
        )
        if not body.get("errors"):
            break
        assert time.monotonic() < deadline, body["errors"]
        await asyncio.sleep(0.2)
    while not (page := (await system.graphql(UNREAD, token=reader))["data"]["notifications"])[
        "nodes"
    ]:  # the index fills from content's events
        assert time.monotonic() < deadline, "the reply never reached the reader's notifications"
        await asyncio.sleep(0.1)
    return str(page["nodes"][0]["id"])


async def _subscribe(
    system: System, reader: str, replier: str, post_id: str, query: str
) -> dict[str, Any]:
    """The first event of subscription `query`, as `reader`, while `replier` answers `post_id`
    (again until one arrives: the subscription counts from when it started); its data must be
    the notification of one of those replies."""
    replies: list[str] = []
    async with socket(system, reader) as sock:
        await sock.subscribe("readme", query, {})
        async with asyncio.timeout(30):
            while True:
                replies.append(await _reply(system, replier, post_id))
                try:
                    message = await sock.message("readme", within=2)
                except TimeoutError:
                    continue
                break
    assert message["type"] == "next" and not message["payload"].get("errors"), message
    data: dict[str, Any] = message["payload"]["data"]
    (note,) = data.values()
    assert (note["kind"], note["postId"]) == ("REPLY_TO_POST", post_id), note
    assert note["commentId"] in replies, note
    return data


def _role_of(example: str) -> str:
    return "auditor" if re.search(r"\baudit[A-Z]", example) else "moderator"


async def test_every_readme_graphql_example_runs_as_written(system: System) -> None:
    examples = readme_examples()
    assert len(examples) >= 5, "the README's GraphQL examples were not found"
    alias_id, _ = await _a_post_in_second_opinions(system)
    post_id, comment_id = await _own_case_and_comment(system)
    tokens = {
        role: await _login(system, f"{role}@demo.consilium") for role in ("moderator", "auditor")
    }
    replier = await _login(system, REPLIER)
    notification_id = await _a_notification(system, tokens["moderator"], replier, post_id)
    placeholders = {
        '"als_..."': f'"{alias_id}"',
        '"pst_..."': f'"{post_id}"',
        '"cmt_..."': f'"{comment_id}"',
        '"ntf_..."': f'"{notification_id}"',
    }

    def substituted(text: str) -> str:
        for placeholder, value in placeholders.items():
            text = text.replace(placeholder, value)
        return text

    results: list[dict[str, Any]] = []
    for example, variables in examples:
        query = substituted(example)
        signs_in = query.lstrip().startswith("mutation") and "login(" in query
        token = None if signs_in else tokens[_role_of(query)]
        if query.lstrip().startswith("subscription"):
            results.append(await _subscribe(system, tokens["moderator"], replier, post_id, query))
            continue
        values = json.loads(substituted(variables)) if variables else None
        body = await system.graphql(query, values, token=token, expect_errors=True)
        assert not body.get("errors"), f"README example failed:\n{example}\n{body['errors']}"
        assert body["data"] and all(v is not None for v in body["data"].values()), example
        results.append(body["data"])

    # The examples show what they claim: the feed finds the post, and the auditor's query sees
    # the moderator's hideAlias once the ledger has it.
    feeds = [r["feed"] for r in results if "feed" in r]
    assert feeds and all(f.get("nodes") or f.get("edges") for f in feeds)
    # The reader had a notification, the mutation (with its variables) marked it read, and the
    # subscription delivered the next one.
    (unread,) = [r["notifications"]["unreadCount"] for r in results if "notifications" in r]
    assert unread >= 1
    assert [r["markNotificationsRead"] for r in results if "markNotificationsRead" in r] == [0]
    assert sum("notificationAdded" in r for r in results) == 1
    audit_example = next(e for e, _ in examples if _role_of(e) == "auditor")
    deadline = time.monotonic() + 30
    while not (await system.graphql(audit_example, token=tokens["auditor"]))["data"]["auditEvents"][
        "nodes"
    ]:
        assert time.monotonic() < deadline, "the hideAlias example never reached the ledger"
        await asyncio.sleep(0.2)
