"""One request, one trace, seen by a real OTLP receiver: a moderator's `revealAuthor` through
the gateway crosses anonymity and identity, and reaches the audit ledger through the events
its accesses wrote, all under the trace id the gateway started (A3). `consilium audit trace
--otlp` then prints the request's audit events and the services its spans crossed, from the
receiver's file in the collector's file-exporter format. No span says who anyone is (P1).

Each component runs as its own process (a tracer provider is per process), exporting over
OTLP/gRPC to the receiver on loopback.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.otlp_receiver import OtlpReceiver, ReceivedSpan, start_receiver
from support.process_stack import Stack, running_stack

from cli.audit import Options, run_trace
from services.identity.domain.validation import npi_check_digit

PASSWORD = "consilium-demo"
SERVICES = {f"consilium-{name}" for name in ("gateway", "anonymity", "identity", "audit")}
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { token viewer { id } } }"
VERIFY = "mutation($u: ID!) { verifyPhysician(userId: $u, approve: true) { id } }"
CREATE = "mutation($i: CreatePostInput!) { createPost(input: $i) { author { aliasId } } }"
REVEAL = """mutation($a: ID!, $p: String!) {
  revealAuthor(aliasId: $a, purpose: $p) { id fullName npi } }"""
ME = "query { me { id } }"
TRACERESPONSE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


class Client:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url

    async def call(self, query: str, variables: dict[str, Any], token: str = "") -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        reply = await self.http.post(
            self.url, json={"query": query, "variables": variables}, headers=headers
        )
        assert reply.status_code == 200 and reply.json().get("errors") is None, reply.text
        return reply

    async def data(self, query: str, variables: dict[str, Any], token: str = "") -> Any:
        return (await self.call(query, variables, token)).json()["data"]

    async def login(self, email: str, password: str = PASSWORD) -> str:
        return str((await self.data(LOGIN, {"e": email, "p": password}))["login"]["token"])


@pytest.fixture
async def traced(tmp_path: Path) -> AsyncIterator[tuple[Stack, OtlpReceiver]]:
    receiver = OtlpReceiver(tmp_path / "otlp-traces.jsonl")
    server, port = await start_receiver(receiver)
    exporters = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        # Export within a tenth of a second, not the default five.
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    try:
        async with running_stack(tmp_path / "data", exporters) as stack:
            yield stack, receiver
    finally:
        await server.stop(None)


def _by_service(spans: list[ReceivedSpan]) -> dict[str, list[ReceivedSpan]]:
    grouped: dict[str, list[ReceivedSpan]] = {}
    for span in spans:
        grouped.setdefault(span.service, []).append(span)
    return grouped


async def test_a_reveal_is_one_trace_across_four_services_without_personal_data(
    traced: tuple[Stack, OtlpReceiver], tmp_path: Path
) -> None:
    stack, receiver = traced
    async with httpx.AsyncClient(timeout=30) as http:
        client = Client(http, stack.gateway_url)
        admin = await client.login("admin@demo.consilium")
        moderator = await client.login("moderator@demo.consilium")
        auditor = await client.login("auditor@demo.consilium")
        moderator_id = (await client.data(ME, {}, moderator))["me"]["id"]
        canary = uuid.uuid4().hex[:10]
        npi_stem = f"1{int(canary, 16) % 10**8:08d}"
        author = {
            "email": f"otlp.{canary}@example.org",
            "password": "a long enough password 42",
            "fullName": f"Dr. Canary {canary}",
            "npi": npi_stem + npi_check_digit(npi_stem),
            "specialty": "207RC0000X",
            "country": "US",
        }
        registered = (await client.data(REGISTER, {"i": author}))["register"]
        author_id = registered["viewer"]["id"]
        await client.data(VERIFY, {"u": author_id}, admin)
        author_token = await client.login(author["email"], author["password"])
        post = {
            "kind": "DISCUSSION",
            "community": "lounge-stories",
            "title": "Night shift",
            "body": "Notes.",
            "visibility": "ANONYMOUS",
        }
        created = await client.data(CREATE, {"i": post}, author_token)
        alias_id = created["createPost"]["author"]["aliasId"]
        reply = await client.call(REVEAL, {"a": alias_id, "p": "credible threat report"}, moderator)
    assert reply.json()["data"]["revealAuthor"]["id"] == author_id
    match = TRACERESPONSE.match(reply.headers.get("traceresponse", ""))
    assert match is not None, reply.headers
    trace_id = match.group(1)

    async with asyncio.timeout(30):
        await receiver.wait_for(trace_id, SERVICES)
        # A parent never exported (a broken propagation) fails here, at the timeout.
        await receiver.wait_for_parents(trace_id)
    spans = receiver.of_trace(trace_id)
    by_id = {s.span_id: s for s in spans}
    services = _by_service(spans)
    # One root, the gateway's; every other span's parent is a span of this trace.
    (root,) = [s for s in spans if not s.parent_id]
    assert root.service == "consilium-gateway"
    for span in spans:
        assert not span.parent_id or span.parent_id in by_id, (span.service, span.span.name)

    def parents(service: str) -> set[str]:
        return {by_id[s.parent_id].service for s in services[service] if s.parent_id in by_id}

    # The gateway called anonymity; identity was called by the gateway or anonymity; the
    # ledger's consumer continued the traces of the events anonymity and identity wrote.
    assert "consilium-gateway" in parents("consilium-anonymity")
    assert parents("consilium-identity") & {"consilium-gateway", "consilium-anonymity"}
    assert "consilium-anonymity" in parents("consilium-audit") - {"consilium-audit"}

    options = Options(auditor, stack.address("audit"), data_dir=stack.data_dir)
    async with asyncio.timeout(30):
        # The ledger ingests the events from the bus; it offers nothing to wait on but polling.
        while len(await run_trace(options, trace_id, None)) < 3:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
    env = {**os.environ, "CONSILIUM_TOKEN": auditor, "CONSILIUM_DATA_DIR": str(stack.data_dir)}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "cli.main", "audit", "trace", trace_id),
        *("--audit-address", stack.address("audit"), "--otlp", str(receiver.file)),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    events = [line for line in lines if " span " in line and "#" in line.split()[1]]
    assert [e.split()[1].split("#")[0] for e in events] == ["anonymity", "identity"], lines
    assert "REVEAL_ALIAS GRANTED" in events[0] and "READ_PROFILE GRANTED" in events[1]
    crossed = next(line for line in lines if line.startswith("services crossed: "))
    assert set(crossed.removeprefix("services crossed: ").split(" -> ")) == SERVICES
    assert crossed.startswith("services crossed: consilium-gateway -> ")
    assert "  consilium-gateway -> consilium-anonymity" in lines
    assert "  consilium-anonymity -> consilium-audit" in lines

    # P1: no span of any service, in any trace, says who anyone is.
    personal = {
        author_id,
        moderator_id,
        author["email"],
        author["fullName"],
        author["npi"],
        "moderator@demo.consilium",
        "admin@demo.consilium",
    }
    texts = [text for span in receiver.spans for text in span.strings()]
    texts += receiver.resources
    assert len({s.service for s in receiver.spans}) >= 4
    leaks = [t for t in texts if "usr_" in t or any(p in t for p in personal)]
    assert leaks == []
    raw = receiver.file.read_text()
    assert not any(p in raw for p in personal)
