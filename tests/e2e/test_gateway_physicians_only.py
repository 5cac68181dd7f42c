"""Physicians only (issue 9, finding 1): content is read by VERIFIED physicians and staff.

The open internet, a PENDING registrant, a REJECTED applicant and a SUSPENDED member try
every door to cases, lounge talk and personas: `feed`, `post`, `search`, `author`,
`_entities` (a federation router forwards `Authorization`), `postAdded` and `commentAdded`.
Each is refused (UNAUTHENTICATED without a token, FORBIDDEN with a token that may not read)
and answers no data; `me`, `specialties` and `communities` stay open as documented.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.system import PASSWORD, System
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from plumbing.auth import Role

CREATE = "mutation($i: CreatePostInput!) { createPost(input: $i) { id author { aliasId } } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
POST_INPUT = {
    "kind": "CASE",
    "community": "second-opinions",
    "title": "Candid case",
    "body": "Something a physician says only among physicians.",
    "visibility": "ANONYMOUS",
    "case": {
        "ageBand": "MIDDLE_AGED",
        "sex": "FEMALE",
        "presentingComplaint": "chest pain",
        "question": "what next?",
    },
}

#: Root fields anyone may query, and why.
PUBLIC = {
    "specialties",  # the registration form
    "communities",  # the registration form
    "_service",  # the federation SDL: the schema, no content
}
#: `me` answers any signed-in account, whatever its verification state (tested below);
#: every other root field needs a reader.


def reads(post_id: str, alias_id: str) -> dict[str, str]:
    return {
        "feed": "{ feed { nodes { id title body } } }",
        "post": f'{{ post(id: "{post_id}") {{ id body }} }}',
        "search": '{ search(text: "candid") { nodes { id body } } }',
        "author": f'{{ author(aliasId: "{alias_id}") {{ aliasId handle }} }}',
        "_entities(Post)": (
            f'{{ _entities(representations: [{{__typename: "Post", id: "{post_id}"}}]) '
            "{ ... on Post { id body } } }"
        ),
        "_entities(Author)": (
            f'{{ _entities(representations: [{{__typename: "Author", aliasId: "{alias_id}"}}]) '
            "{ ... on Author { aliasId handle } } }"
        ),
    }


async def login(system: System, email: str) -> str:
    body = await system.graphql(LOGIN, {"e": email, "p": PASSWORD})
    return str(body["data"]["login"]["token"])


async def candid_post(system: System) -> tuple[str, str]:
    _, author = await system.account()
    body = await system.graphql(CREATE, {"i": POST_INPUT}, token=author)
    created = body["data"]["createPost"]
    return created["id"], created["author"]["aliasId"]


async def outsiders(system: System) -> dict[str, str | None]:
    """A caller of each kind that must not read: status name -> token (None: no token)."""
    _, admin = await system.account(Role.ADMIN)
    _, pending = await system.register(email="pending@example.org")
    rejected_id, _ = await system.register(email="rejected@example.org")
    suspended_id, _ = await system.register(email="suspended@example.org")
    verify = "mutation($u: ID!, $a: Boolean!) { verifyPhysician(userId: $u, approve: $a) { id } }"
    await system.graphql(verify, {"u": rejected_id, "a": False}, token=admin)
    await system.graphql(verify, {"u": suspended_id, "a": True}, token=admin)
    await system.graphql(
        'mutation($u: ID!) { suspendPhysician(userId: $u, reason: "test") { id } }',
        {"u": suspended_id},
        token=admin,
    )
    return {
        "UNAUTHENTICATED": None,
        "PENDING": pending,
        "REJECTED": await login(system, "rejected@example.org"),
        "SUSPENDED": await login(system, "suspended@example.org"),
    }


async def test_nobody_but_physicians_and_staff_reads_content(system: System) -> None:
    post_id, alias_id = await candid_post(system)
    callers = await outsiders(system)
    for status, token in callers.items():
        expected = "UNAUTHENTICATED" if token is None else "FORBIDDEN"
        for name, query in reads(post_id, alias_id).items():
            body = await system.graphql(query, token=token, expect_errors=True)
            codes = {e["extensions"]["code"] for e in body.get("errors", [])}
            assert codes == {expected}, (status, name, body)
            leaked = json.dumps(body.get("data"))
            assert "Candid" not in leaked and "physician says" not in leaked, (status, name)
            assert alias_id not in leaked, (status, name, body)

    # The messages say what to do about it.
    pending = await system.graphql(
        reads(post_id, alias_id)["feed"], token=callers["PENDING"], expect_errors=True
    )
    assert "verif" in pending["errors"][0]["message"]
    anonymous = await system.graphql(reads(post_id, alias_id)["feed"], expect_errors=True)
    assert "sign in" in anonymous["errors"][0]["message"].lower()


async def test_pending_sees_own_profile_and_the_registration_lists(system: System) -> None:
    _, pending = await system.register()
    body = await system.graphql(
        "{ me { verification } specialties { code } communities { id } }", token=pending
    )
    assert body["data"]["me"]["verification"] == "PENDING"
    assert body["data"]["specialties"] and body["data"]["communities"]
    public = await system.graphql("{ specialties { code } communities { id } }")
    assert public["data"]["communities"]


@pytest.mark.parametrize("roles", [(), (Role.MODERATOR,), (Role.AUDITOR,), (Role.ADMIN,)])
async def test_verified_physicians_and_staff_read(system: System, roles: tuple[Role, ...]) -> None:
    post_id, alias_id = await candid_post(system)
    # Staff read even before their own NPI check; a plain member must be VERIFIED.
    _, token = await system.account(*roles, verified=not roles)
    for name, query in reads(post_id, alias_id).items():
        body = await system.graphql(query, token=token)
        assert body["data"], name


async def test_every_root_field_is_closed_unless_listed_public(system: System) -> None:
    """Fail-closed: a new root field must either check the reader or be listed above."""
    schema = await system.graphql(
        "{ __schema { queryType { fields { name args { name defaultValue type { kind } } } } } }"
    )
    for field in schema["data"]["__schema"]["queryType"]["fields"]:
        name = field["name"]
        args = [
            a["name"]
            for a in field["args"]
            if a["type"]["kind"] == "NON_NULL" and a["defaultValue"] is None
        ]
        values = {
            "id": '"x"',
            "aliasId": '"x"',
            "text": '"x"',
            "representations": '[{__typename: "Post", id: "x"}]',
        }
        arguments = ", ".join(f"{a}: {values[a]}" for a in args)
        query = f"{{ {name}{f'({arguments})' if arguments else ''} {{ __typename }} }}"
        body = await system.graphql(query, expect_errors=True)
        codes = {e["extensions"]["code"] for e in body.get("errors", [])}
        if name in PUBLIC:
            assert not codes, (name, body)
        else:
            assert codes == {"UNAUTHENTICATED"}, (name, body)


@contextlib.asynccontextmanager
async def ws(system: System, token: str | None) -> AsyncIterator[Any]:
    url = system.gateway_url.replace("http://", "ws://", 1)
    async with connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")], proxy=None, open_timeout=10
    ) as sock:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await sock.send(json.dumps({"type": "connection_init", "payload": payload}))
        async with asyncio.timeout(10):
            assert json.loads(await sock.recv())["type"] == "connection_ack"
        yield sock


async def test_subscriptions_are_for_physicians_only(system: System) -> None:
    post_id, _ = await candid_post(system)
    callers = await outsiders(system)
    operations = {
        "postAdded": "subscription { postAdded { id body } }",
        "commentAdded": f'subscription {{ commentAdded(postId: "{post_id}") {{ id body }} }}',
    }
    for status, token in callers.items():
        expected = "UNAUTHENTICATED" if token is None else "FORBIDDEN"
        async with ws(system, token) as sock:
            for op, query in operations.items():
                await sock.send(
                    json.dumps({"id": op, "type": "subscribe", "payload": {"query": query}})
                )
            answers: dict[str, Any] = {}
            async with asyncio.timeout(10):
                while len(answers) < len(operations):
                    message = json.loads(await sock.recv())
                    if message["type"] != "complete":
                        answers.setdefault(message["id"], message)
        for op, message in answers.items():
            assert message["type"] in ("next", "error"), (status, op, message)
            errors = message["payload"].get("errors") if message["type"] == "next" else None
            codes = {e["extensions"]["code"] for e in errors or message["payload"]}
            assert codes == {expected}, (status, op, message)
            assert not (message["payload"].get("data") or {}).get(op), (status, op, message)
