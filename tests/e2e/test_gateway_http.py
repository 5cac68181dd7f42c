"""GraphQL over HTTP at the gateway: limits, dev and production modes, GET and POST, health."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.system import PASSWORD, System, next_npi, run_system

from gateway.clients.content import ContentClient
from plumbing.auth.servicekeys import (
    dev_service_key_path,
    prepare_dev_service_keys,
    service_key_env,
)

GRAPHQL_RESPONSE = "application/graphql-response+json"

#: Misspelt documents and the name a suggestion would reveal: a field, an argument, a type
#: and an enum value (graphql-core words each hint differently).
MISSPELT = [
    ("{ communites { id } }", "communities"),
    ("{ feed(frist: 2) { nodes { id } } }", "first"),
    ("query($t: Strng) { search(text: $t) { nodes { id } } }", "String"),
    ('mutation { react(postId: "p", reaction: INSIGHTFL) { id } }', "INSIGHTFUL"),
]
INTROSPECTION = [
    "{ __schema { queryType { name } } }",
    '{ __type(name: "Post") { name fields { name } } }',
]
REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { token } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"


async def post(
    system: System, query: str, variables: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    body = {"query": query, "variables": variables or {}}
    return await system.http.post(system.gateway_url, json=body, headers=headers)


def codes(reply: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in reply.json().get("errors", [])]


def messages(reply: httpx.Response) -> list[str]:
    return [e["message"] for e in reply.json().get("errors", [])]


def refused(reply: httpx.Response, fragment: str) -> None:
    """The document was refused before execution, with a message containing `fragment`."""
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["data"] is None, body
    assert set(codes(reply)) == {"GRAPHQL_VALIDATION_FAILED"}, body
    assert any(fragment in m for m in messages(reply)), body


def base_url(system: System) -> str:
    return system.gateway_url.removesuffix("/graphql")


# -- limits ---------------------------------------------------------------------------------


async def test_depth_limit_refuses_deeper_queries(tmp_path: Path) -> None:
    async with run_system(tmp_path / "data", max_depth=3) as system:
        reader = f"Bearer {await system.reader()}"
        at_limit = await post(
            system, "{ feed { nodes { author { handle } } } }", authorization=reader
        )
        assert at_limit.json() == {"data": {"feed": {"nodes": []}}}
        deeper = "{ feed { nodes { comments { nodes { id } } } } }"
        refused(await post(system, deeper), "exceeds maximum operation depth of 3")
        # A fragment is counted where it is spread, so it is no way around the limit.
        spread = f"query {{ ...F }} fragment F on Query {deeper}"
        refused(await post(system, spread), "exceeds maximum operation depth of 3")


async def test_token_limit_refuses_long_documents(tmp_path: Path) -> None:
    async with run_system(tmp_path / "data", max_tokens=10) as system:
        short = await post(system, "{ communities { id } }")
        assert short.json()["data"]["communities"], short.text
        long = "{ communities { id name description } specialties { code name } }"
        refused(await post(system, long), "more than 10 tokens")


async def test_alias_limit_refuses_too_many_aliases(tmp_path: Path) -> None:
    async with run_system(tmp_path / "data", max_aliases=2) as system:
        two = await post(system, "{ a: communities { id } b: specialties { code } }")
        assert set(two.json()["data"]) == {"a", "b"}, two.text
        three = "{ a: communities { id } b: communities { id } c: communities { id } }"
        refused(await post(system, three), "3 aliases found. Allowed: 2")


async def test_body_over_the_limit_is_refused_with_413(tmp_path: Path) -> None:
    async with run_system(tmp_path / "data", max_body_bytes=2048) as system:
        padded = "{ communities { id } }" + " " * 1900
        assert (await post(system, padded)).json()["data"]["communities"]

        def too_large(reply: httpx.Response) -> None:
            assert reply.status_code == 413, reply.text
            assert reply.headers["content-type"] == "application/json"
            (error,) = reply.json()["errors"]
            assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
            assert "2048 bytes" in error["message"]

        too_large(await post(system, "{ communities { id } }" + " " * 5000))

        async def chunks() -> AsyncIterator[bytes]:
            # No Content-Length: the limit must hold while the body streams in.
            for _ in range(10):
                yield b" " * 500

        too_large(
            await system.http.post(
                system.gateway_url, content=chunks(), headers={"content-type": "application/json"}
            )
        )


# -- dev and production ---------------------------------------------------------------------


async def test_dev_mode_offers_introspection_suggestions_and_graphiql(system: System) -> None:
    for query in INTROSPECTION:
        reply = await post(system, query)
        assert "errors" not in reply.json(), reply.text
    for query, name in MISSPELT:
        reply = await post(system, query)
        assert any("Did you mean" in m and f"'{name}'" in m for m in messages(reply)), reply.text
    ide = await system.http.get(system.gateway_url, headers={"accept": "text/html"})
    assert ide.status_code == 200
    assert ide.headers["content-type"].startswith("text/html")
    assert "graphiql" in ide.text.lower()


async def test_production_hides_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Production makes no dev keys: the gateway's service key comes from the environment.
    prepare_dev_service_keys(tmp_path / "data")
    key_file = tmp_path / "data" / dev_service_key_path("gateway")
    monkeypatch.setenv(service_key_env("gateway")[1], str(key_file))
    async with run_system(tmp_path / "data", environment="production") as system:
        for query in INTROSPECTION:
            refused(await post(system, query), "introspection has been disabled")
        for query, name in MISSPELT:
            reply = await post(system, query)
            assert messages(reply), reply.text
            assert "Did you mean" not in reply.text
            assert f"'{name}'" not in reply.text, "a hint names what introspection would"
        ide = await system.http.get(system.gateway_url, headers={"accept": "text/html"})
        assert ide.status_code == 404
        assert not ide.headers["content-type"].startswith("text/html")
        assert (await post(system, "{ communities { id } }")).json()["data"]["communities"]


# -- GET, POST and content types ------------------------------------------------------------


async def test_get_runs_queries(system: System) -> None:
    reply = await system.http.get(
        system.gateway_url,
        params={
            "query": "query($f: Int) { feed(first: $f) { nodes { id } } communities { id } }",
            "variables": json.dumps({"f": 5}),
        },
        headers={"authorization": f"Bearer {await system.reader()}"},
    )
    assert reply.status_code == 200, reply.text
    data = reply.json()["data"]
    assert data["feed"] == {"nodes": []}
    assert "second-opinions" in [c["id"] for c in data["communities"]]


async def test_get_refuses_mutations_without_running_them(system: System) -> None:
    email = "get-mutation@example.org"
    registration = {
        "email": email,
        "password": PASSWORD,
        "fullName": "Dr. Get Request",
        "npi": next_npi(),
        "specialty": "207RC0000X",
        "country": "US",
    }
    reply = await system.http.get(
        system.gateway_url, params={"query": REGISTER, "variables": json.dumps({"i": registration})}
    )
    # Strawberry's answer (the GraphQL-over-HTTP spec would prefer 405).
    assert reply.status_code == 400
    assert "mutations are not allowed when using GET" in reply.text
    login = await post(system, LOGIN, {"e": email, "p": PASSWORD})
    assert codes(login) == ["UNAUTHENTICATED"], "the GET registration must not have happened"
    # The same mutation over POST works, so the refusal was about the method alone.
    registered = await post(system, REGISTER, {"i": registration})
    assert registered.json()["data"]["register"]["token"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
    ],
)
async def test_content_type_follows_accept(
    system: System, accept: str | None, expected: str
) -> None:
    headers = {"accept": accept} if accept else {}
    for query in ("{ communities { id } }", "{ nope }"):
        by_post = await system.http.post(system.gateway_url, json={"query": query}, headers=headers)
        by_get = await system.http.get(system.gateway_url, params={"query": query}, headers=headers)
        for reply in (by_post, by_get):
            assert reply.status_code == 200, reply.text
            assert reply.headers["content-type"].split(";")[0] == expected, query
            assert "data" in reply.json()


# -- errors ---------------------------------------------------------------------------------


async def test_unexpected_errors_are_masked_with_a_trace_id(
    system: System, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "password=hunter2 at /srv/consilium/content.db"

    async def broken(self: ContentClient) -> list[Any]:
        raise RuntimeError(secret)

    monkeypatch.setattr(ContentClient, "communities", broken)
    caplog.set_level(logging.ERROR, logger="consilium.gateway.errors")
    reply = await post(system, "{ communities { id } specialties { code } }")
    assert reply.status_code == 200
    (error,) = reply.json()["errors"]
    assert error["path"] == ["communities"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    trace_id = error["extensions"]["traceId"]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id) and trace_id != "0" * 32, trace_id
    for leak in ("hunter2", "/srv/", "RuntimeError", "Traceback", "content.py"):
        assert leak not in reply.text
    (record,) = [r for r in caplog.records if r.name == "consilium.gateway.errors"]
    assert trace_id in record.getMessage(), "operators find the error by the id the client quotes"
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


# -- health ---------------------------------------------------------------------------------


async def test_healthz_is_alive_and_readyz_names_a_down_upstream(system: System) -> None:
    health = f"{base_url(system)}/healthz"
    ready = f"{base_url(system)}/readyz"
    assert (await system.http.get(health)).json() == {"status": "ok"}
    up = await system.http.get(ready)
    assert up.status_code == 200, up.text
    assert up.json()["upstreams"] == {
        "identity": "SERVING",
        "anonymity": "SERVING",
        "content": "SERVING",
        "audit": "SERVING",
    }

    await system.content.server.stop()
    down = await system.http.get(ready)
    assert down.status_code == 503, down.text
    assert down.json()["status"] == "not ready"
    assert down.json()["upstreams"] == {
        "identity": "SERVING",
        "anonymity": "SERVING",
        "content": "NOT_SERVING",
        "audit": "SERVING",
    }
    alive = await system.http.get(health)
    assert alive.status_code == 200, "liveness must not follow upstreams, or k8s restarts us"
