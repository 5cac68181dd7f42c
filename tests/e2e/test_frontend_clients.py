"""The contract frontend teams build on, checked by their own npm packages against a live gateway.

graphql-http's `auditServer` holds the gateway to the GraphQL-over-HTTP spec; Apollo Client's
`relayStylePagination` and Relay's `ConnectionHandler` page the feed the way apps do. The
locked packages of tests/frontend/ are installed once, outside the checkout, by
scripts/frontend.sh (as tests/contract/test_federation.py does for composition).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.system import System

from gateway import graphql_http

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "frontend.sh"


@dataclass(frozen=True)
class NodeRun:
    returncode: int
    out: Any
    stderr: str


@pytest.fixture(scope="module")
def npm_packages() -> None:
    """Installs the locked packages (a no-op once they are in the cache)."""
    result = subprocess.run(
        ["bash", str(SCRIPT), "install"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"scripts/frontend.sh install failed:\n{result.stderr}"


async def frontend(*args: str) -> NodeRun:
    """`scripts/frontend.sh ARGS`; asynchronous, since the gateway it talks to runs in this
    very event loop and must keep answering while node waits."""
    process = await asyncio.create_subprocess_exec(
        "bash",
        str(SCRIPT),
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    async with asyncio.timeout(180):
        stdout, stderr = await process.communicate()
    assert process.returncode is not None
    try:
        out = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"frontend.sh {args[0]} printed no JSON ({exc}):\n{stdout!r}\n{stderr.decode()}"
        ) from exc
    return NodeRun(process.returncode, out, stderr.decode())


# -- GraphQL over HTTP ----------------------------------------------------------------------


async def test_graphql_http_audit_passes_without_warnings(
    npm_packages: None, system: System
) -> None:
    audit = await frontend("audit", system.gateway_url)

    assert audit.out["failed"] == [], json.dumps(audit.out["failed"], indent=2)
    assert audit.out["ok"] >= 61, audit.out
    assert audit.returncode == 0, audit.stderr


async def test_the_audit_finds_request_errors_answered_like_field_errors(
    npm_packages: None, system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative control: with every result sent as 200 with `data` (the gateway before
    issue 13), the audit warns about exactly the request errors under graphql-response+json."""
    monkeypatch.setattr("gateway.view.shape", lambda response, _media_type: (response, 200))

    audit = await frontend("audit", system.gateway_url)

    failed = audit.out["failed"]
    assert audit.returncode == 1
    assert {f["status"] for f in failed} == {"warn"}, failed
    assert len(failed) == 7, failed
    for f in failed:
        assert f["name"].endswith(f"when accepting {graphql_http.GRAPHQL_RESPONSE}"), f


# -- Relay connections, as Apollo Client and Relay merge them ----------------------------------


async def test_apollo_and_relay_page_the_feed_without_gaps_or_repeats(
    npm_packages: None, system: System
) -> None:
    _, author = await system.account()
    created = []
    for number in range(7):
        reply = await system.graphql(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
            {
                "i": {
                    "kind": "DISCUSSION",
                    "community": ("lounge-stories", "second-opinions")[number % 2],
                    "title": f"Page walk {number}",
                    "body": "Paged by the clients apps use.",
                    "visibility": ("IDENTIFIED", "PSEUDONYMOUS", "ANONYMOUS")[number % 3],
                }
            },
            token=author,
        )
        created.append(reply["data"]["createPost"]["id"])
    newest_first = created[::-1]

    run = await frontend("paging", system.gateway_url, await system.reader(), "3")

    assert run.returncode == 0, run.stderr
    apollo, middle, relay = run.out["apollo"], run.out["apolloMiddle"], run.out["relay"]
    for client in (apollo, relay):
        assert [len(page) for page in client["pages"]] == [3, 3, 1], client
        joined = [post for page in client["pages"] for post in page]
        assert joined == newest_first, "the pages join without gaps or repeats"
        assert client["merged"] == newest_first, "the client's merged list is the whole feed"
    # `after` the second edge's cursor: the page starts right after that post.
    assert middle["first"] == newest_first[:3]
    assert middle["next"] == newest_first[2:5]
    assert middle["merged"] == newest_first[:5]


# -- Automatic persisted queries, as Apollo Client's PersistedQueryLink speaks them -------------


async def test_apollo_persisted_query_link_registers_then_sends_hashes_only(
    npm_packages: None, system: System
) -> None:
    _, author = await system.account()
    await system.graphql(
        "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
        {
            "i": {
                "kind": "DISCUSSION",
                "community": "lounge-stories",
                "title": "Hashed",
                "body": "Fetched by hash.",
                "visibility": "PSEUDONYMOUS",
            }
        },
        token=author,
    )

    run = await frontend("apq", system.gateway_url, await system.reader())

    assert run.returncode == 0, run.stderr
    for name, hashed_method in (("post", "POST"), ("get", "GET")):
        requests, results = run.out[name]["requests"], run.out[name]["results"]
        exchange = [(r["method"], r["hasQuery"], r["status"], r["codes"]) for r in requests]
        assert exchange == [
            # Unknown hash: a 200 the link retries on, with the document this time (a POST).
            (hashed_method, False, 200, ["PERSISTED_QUERY_NOT_FOUND"]),
            ("POST", True, 200, []),
            # Registered: the second use sends the hash alone, and it runs.
            (hashed_method, False, 200, []),
        ], name
        assert len({r["hash"] for r in requests}) == 1
        assert requests[1]["queryHash"] == requests[1]["hash"]
        assert len(results[0]) == 1 and results[0] == results[1]
