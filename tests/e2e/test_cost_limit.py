"""A costly operation is refused at the gateway, its cost named, before any upstream call."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.recording import record_servers
from support.system import run_system

from gateway.extensions.cost import CODE
from gateway.settings import GatewaySettings

#: The issue's flood: 15 aliased feeds x 50 posts x 50 comments, each with its author.
FLOOD = (
    "{ "
    + " ".join(
        f"f{i}: feed(first: 50) {{ nodes {{ id author {{ handle }} "
        f"comments(first: 50) {{ nodes {{ body author {{ handle }} }} }} }} }}"
        for i in range(15)
    )
    + " }"
)


async def test_a_refused_document_makes_no_upstream_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = record_servers(monkeypatch)
    async with run_system(tmp_path / "data") as system:
        token = await system.reader()
        # The same reader's affordable page goes through (and does reach content).
        await system.graphql("{ feed(first: 50) { nodes { id } } }", token=token)
        assert recorder.to("consilium.content.v1.ContentService")
        recorder.calls.clear()

        body = await system.graphql(FLOOD, token=token, expect_errors=True)

        assert body.get("data") is None
        (error,) = body["errors"]
        limit = GatewaySettings().max_cost
        assert error["extensions"] == {"code": CODE, "cost": 77_265, "limit": limit}
        assert "77265" in error["message"] and str(limit) in error["message"]
        assert [c.method for c in recorder.calls] == []
