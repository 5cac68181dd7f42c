"""`consilium audit export` and tools/verify_audit_export.py: an external auditor checks the
ledger with nothing but the export, the pinned keys, Python and `cryptography`."""

from __future__ import annotations

import ast
import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tamper_scene import Scene, altered

from cli.audit import Options, run_export
from plumbing.auth import Role

VERIFIER = Path(__file__).parents[3] / "tools" / "verify_audit_export.py"
Line = dict[str, Any]


async def export(scene: Scene, out: Path) -> str:
    """Writes the export; returns the ledger key the auditor pinned (the dev one)."""
    token = dict(await scene.ledger.token(Role.AUDITOR))["authorization"].split()[1]
    vkey = (scene.settings.data_dir / "audit" / "checkpoint-key.vkey").read_text().strip()
    options = Options(
        token,
        f"127.0.0.1:{scene.ledger.instance.server.port}",
        producers=scene.producers_file,
        ledger_key=vkey,
        data_dir=scene.settings.data_dir,
    )
    outcome = await run_export(options, out)
    assert outcome.findings == []
    return vkey


def standalone(export_file: Path, producers: Path, vkey: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(export_file), "--producers", str(producers),
         "--ledger-key", vkey],
        capture_output=True, text=True, timeout=60, check=False, cwd=export_file.parent,
    )  # fmt: skip


def test_the_standalone_verifier_imports_nothing_of_ours() -> None:
    """The verifier's two files import the standard library, `cryptography` and each other."""
    roots: set[str] = set()
    for path in (VERIFIER, VERIFIER.with_name("audit_event_wire.py")):
        tree = ast.parse(path.read_text())
        roots |= {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        } | {
            a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
        }
    assert roots - set(sys.stdlib_module_names) == {"cryptography", "audit_event_wire"}


async def test_an_export_verifies_without_our_services(scene: Scene, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    vkey = await export(scene, out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]

    result = standalone(out, scene.producers_file, vkey)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "identity: 5 events verified" in result.stdout
    assert "anonymity: 3 events verified" in result.stdout
    assert [(x["type"], x["producer"]) for x in lines][:2] == [
        ("checkpoint", "anonymity"),
        ("event", "anonymity"),
    ]
    assert lines[1]["fields"]["purpose"] == "harassment report"


def _reencoded(line: Line) -> None:
    from consilium.audit.v1 import audit_pb2 as pb

    event = pb.AuditEvent()
    event.ParseFromString(base64.b64decode(line["bytes"]))
    line["bytes"] = base64.b64encode(
        altered(event, purpose="edited").SerializeToString(deterministic=True)
    ).decode()
    line["fields"]["purpose"] = "edited"  # a consistent forgery: fields and bytes agree


def _root(line: Line) -> None:
    text, _, sigs = line["checkpoint"].partition("\n\n")
    origin, size, _root_b64 = text.split("\n")
    line["checkpoint"] = f"{origin}\n{size}\n{base64.b64encode(bytes(32)).decode()}\n\n{sigs}"


TAMPERS: dict[str, tuple[Callable[[list[Line]], None], str]] = {
    "decoded field": (lambda ls: ls[3]["fields"].update(actor_id="usr_scapegoat"), "decoded"),
    "signed bytes": (lambda ls: _reencoded(ls[3]), "modified"),
    "dropped event": (lambda ls: ls.pop(3), "exactly events"),
    "checkpoint root": (lambda ls: _root(ls[0]), "signature"),
    "proof": (lambda ls: ls[2]["inclusion"]["hashes"].reverse(), "not in the signed log"),
    "missing producer": (lambda ls: ls[:] and ls.__delitem__(slice(0, 4)), "MISSING_PRODUCER"),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
async def test_a_tampered_export_is_rejected(scene: Scene, tmp_path: Path, tamper: str) -> None:
    out = tmp_path / "audit.jsonl"
    vkey = await export(scene, out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    change, named = TAMPERS[tamper]
    change(lines)
    out.write_text("".join(json.dumps(x) + "\n" for x in lines))

    result = standalone(out, scene.producers_file, vkey)

    assert result.returncode == 1, result.stdout
    assert named in result.stdout


async def test_another_ledger_key_is_rejected(scene: Scene, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from plumbing.tlog import NoteSigner

    out = tmp_path / "audit.jsonl"
    await export(scene, out)
    stranger = NoteSigner("consilium.audit", Ed25519PrivateKey.generate()).verifier.vkey

    result = standalone(out, scene.producers_file, stranger)

    assert result.returncode == 1
    assert "not signed by the pinned ledger key" in result.stdout
