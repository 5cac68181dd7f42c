"""The GraphQL SDL is a contract with frontend teams: any change shows up as a diff here."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings

SNAPSHOT = Path(__file__).resolve().parents[2] / "gateway" / "schema.graphql"


def test_sdl_matches_the_committed_snapshot() -> None:
    current = build_schema(GatewaySettings()).as_str() + "\n"
    if os.environ.get("CONSILIUM_UPDATE_SDL") == "1":
        SNAPSHOT.write_text(current)
    recorded = SNAPSHOT.read_text()
    diff = "".join(
        difflib.unified_diff(
            recorded.splitlines(True), current.splitlines(True), "committed", "now"
        )
    )
    assert not diff, (
        "the GraphQL schema changed; review the diff, then run `make schema` to record it:\n" + diff
    )
