"""The auditor's tools against the whole system: a real reveal, recorded by anonymity and
identity with their own dev keys, is traced, verified and exported, and the export verifies
with the standalone verifier alone."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from support.system import System, run_system
from test_gateway_audit import REVEAL, anonymous_post_alias

from cli.audit import Options, run_export, run_trace, run_verify
from plumbing.auth import Role

VERIFIER = Path(__file__).parents[2] / "tools" / "verify_audit_export.py"


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    async with run_system(tmp_path / "data", events=True) as running:
        yield running


async def test_a_reveal_is_traced_verified_and_exported(system: System, tmp_path: Path) -> None:
    _, alias_id = await anonymous_post_alias(system)
    _, moderator = await system.account(Role.MODERATOR)
    _, auditor = await system.account(Role.AUDITOR)
    reply = await system.http.post(
        system.gateway_url,
        json={"query": REVEAL, "variables": {"a": alias_id, "p": "credible threat report"}},
        headers={"authorization": f"Bearer {moderator}"},
    )
    assert reply.json().get("errors") is None, reply.text
    # The events carry the trace the gateway started and named in `traceresponse` (A3).
    trace_id = reply.headers["traceresponse"].split("-")[1]
    options = Options(auditor, f"127.0.0.1:{system.audit.server.port}", data_dir=system.data_dir)
    deadline = time.monotonic() + 30
    while len(lines := await run_trace(options, trace_id, None)) < 3:
        assert time.monotonic() < deadline, "the reveal never reached the ledger"
        await asyncio.sleep(0.1)

    verified = await run_verify(options, state_file=tmp_path / "state.json")
    # Held to the producers' own signed heads, fetched from identity and anonymity themselves.
    with_heads = await run_verify(
        replace(
            options,
            heads="producers",
            producer_addresses=(
                f"identity=127.0.0.1:{system.identity.server.port}",
                f"anonymity=127.0.0.1:{system.anonymity.server.port}",
            ),
        )
    )
    out = tmp_path / "audit.jsonl"
    exported = await run_export(options, out)

    assert "REVEAL_ALIAS GRANTED" in lines[1] and "READ_PROFILE GRANTED" in lines[2]
    assert verified.findings == [], verified.findings
    assert with_heads.findings == [], with_heads.findings
    assert exported.findings == []
    # The auditor pins the producers' public keys as PEMs, and the ledger's verifier key.
    keys_dir = system.data_dir / "audit" / "trusted-keys"
    pins: dict[str, set[str]] = {}
    for line in map(json.loads, out.read_text().splitlines()):
        if line["type"] == "event":
            pem = (keys_dir / f"{line['fields']['key_id']}.pem").read_text()
            pins.setdefault(line["producer"], set()).add(pem)
    producers = tmp_path / "producers.json"
    producers.write_text(json.dumps({name: sorted(pems) for name, pems in pins.items()}))
    vkey = (system.data_dir / "audit" / "checkpoint-key.vkey").read_text().strip()
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-I", str(VERIFIER), str(out), "--producers", str(producers),
         "--ledger-key", vkey],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # The ledger's own chain too: the auditor's verify and export were its events.
    assert sorted(pins) == ["anonymity", "audit", "identity"]
