"""Persisted operations through the live gateway: a manifest built by `consilium persisted build`
is all that runs in `only` mode (refusals before any upstream call), and APQ over raw HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.live_socket import socket
from support.recording import record_servers
from support.system import PASSWORD, System, run_system
from typer.testing import CliRunner

from cli.main import app as cli

GRAPHQL_RESPONSE = "application/graphql-response+json"
FEED = "query Feed($first: Int!) { feed(first: $first) { nodes { ...Bits } } }\n"
BITS = "fragment Bits on Post { id title }\n"
COMMUNITIES = "query Communities { communities { id } }\n"
FREE_FORM = "{ feed(first: 5) { nodes { id } } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def errors(reply: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in reply.json().get("errors", [])]


@pytest.fixture
def manifest(tmp_path: Path) -> dict[str, str]:
    """The CLI's manifest of two .graphql files, {operation name: id}; written to manifest.json."""
    docs = tmp_path / "graphql"
    docs.mkdir()
    (docs / "feed.graphql").write_text(FEED + BITS)
    (docs / "communities.graphql").write_text(COMMUNITIES)
    out = tmp_path / "manifest.json"
    result = CliRunner().invoke(cli, ["persisted", "build", str(docs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return {op["name"]: op["id"] for op in json.loads(out.read_text())["operations"]}


async def signed_in(system: System, monkeypatch: pytest.MonkeyPatch) -> str:
    """A VERIFIED member's token, signed in at identity itself: `only` runs no free-form login."""

    async def login(_query: str, variables: dict[str, str], **_: Any) -> dict[str, Any]:
        result = await system.identity.service.login(email=variables["e"], password=PASSWORD)
        return {"data": {"login": {"token": result.token.token}}}

    with monkeypatch.context() as patch:
        patch.setattr(system, "graphql", login)
        _, token = await system.account()
    return token


async def test_only_the_cli_manifest_runs_and_nothing_else_reaches_upstream(
    tmp_path: Path, manifest: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = record_servers(monkeypatch)
    async with run_system(
        tmp_path / "data",
        persisted_mode="only",
        persisted_manifest=tmp_path / "manifest.json",
    ) as system:
        token = await signed_in(system, monkeypatch)
        auth = {"authorization": f"Bearer {token}"}
        url = system.gateway_url
        variables = {"first": 2}

        by_id = await system.http.post(
            url,
            json={"documentId": f"sha256:{manifest['Feed']}", "variables": variables},
            headers=auth,
        )
        assert by_id.status_code == 200 and by_id.json()["data"]["feed"]["nodes"] == [], by_id.text
        # GET, by documentId or by Apollo's hash: a cacheable URL, and no GraphiQL page even
        # for a client that accepts anything.
        for params in (
            {"documentId": manifest["Feed"]},
            {
                "extensions": json.dumps(
                    {"persistedQuery": {"version": 1, "sha256Hash": manifest["Feed"]}}
                )
            },
        ):
            got = await system.http.get(
                url,
                params={**params, "variables": json.dumps(variables)},
                headers={**auth, "accept": "*/*"},
            )
            assert got.status_code == 200, got.text
            assert got.json() == {"data": {"feed": {"nodes": []}}}
        assert recorder.to("consilium.content.v1.ContentService")
        recorder.calls.clear()

        free = await system.http.post(url, json={"query": FREE_FORM}, headers=auth)
        strict = await system.http.post(
            url, json={"query": FREE_FORM}, headers={**auth, "accept": GRAPHQL_RESPONSE}
        )
        unlisted = await system.http.post(url, json={"documentId": sha(FREE_FORM)}, headers=auth)
        registering = await system.http.post(
            url,
            json={
                "query": FREE_FORM,
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(FREE_FORM)}},
            },
            headers=auth,
        )

        assert (free.status_code, free.json()["data"], errors(free)) == (
            200,
            None,
            ["PERSISTED_QUERY_REQUIRED"],
        )
        assert strict.status_code == 400 and "data" not in strict.json(), strict.text
        assert errors(strict) == ["PERSISTED_QUERY_REQUIRED"]
        for reply in (unlisted, registering):
            assert (reply.status_code, errors(reply)) == (200, ["PERSISTED_QUERY_NOT_FOUND"])
            assert reply.headers["cache-control"] == "no-store"
        assert [c.method for c in recorder.calls] == [], "refused before any upstream call"

        # Subscriptions follow the same manifest: a free-form one is refused on the socket.
        async with socket(system, token) as sock:
            await sock.subscribe("s1", "subscription { postAdded { id } }", {})
            message = await sock.message("s1")
        assert message["type"] == "error", message
        assert [e["extensions"]["code"] for e in message["payload"]] == ["PERSISTED_QUERY_REQUIRED"]


async def test_automatic_persisted_queries_over_http(system: System) -> None:
    token = await system.reader()
    auth = {"authorization": f"Bearer {token}"}
    document = "query Mine { feed(first: 1) { nodes { id } } }"

    def body(**extra: Any) -> dict[str, Any]:
        return {
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}},
            **extra,
        }

    unknown = await system.http.post(system.gateway_url, json=body(), headers=auth)
    mismatch = await system.http.post(
        system.gateway_url, json=body(query=document + " "), headers=auth
    )
    registered = await system.http.post(system.gateway_url, json=body(query=document), headers=auth)
    hashed = await system.http.post(system.gateway_url, json=body(), headers=auth)
    free = await system.http.post(system.gateway_url, json={"query": document}, headers=auth)

    assert (unknown.status_code, errors(unknown)) == (200, ["PERSISTED_QUERY_NOT_FOUND"])
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert errors(mismatch) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    for reply in (registered, hashed, free):
        assert reply.json() == {"data": {"feed": {"nodes": []}}}, reply.text


def test_the_gateway_refuses_to_start_on_a_manifest_that_does_not_verify(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({sha(COMMUNITIES): COMMUNITIES, sha(FEED): FEED + " "}))
    env = {
        **os.environ,
        "CONSILIUM_DATA_DIR": str(tmp_path / "data"),
        "CONSILIUM_GATEWAY_PORT": "0",
        "CONSILIUM_GATEWAY_PERSISTED_MANIFEST": str(manifest),
        "CONSILIUM_GATEWAY_PERSISTED_MODE": "only",
    }

    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "serve", "gateway"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )

    assert result.returncode == 1, result.stderr
    assert f"gateway: {manifest}: entry '{sha(FEED)}'" in result.stderr
    assert "is not the sha256 of its document" in result.stderr
