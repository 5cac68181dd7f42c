"""`consilium persisted build`: one verified entry per operation, stable bytes, errors with
file and line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from gateway.persisted.manifest import load_manifest, sha256_hex

FEED = """query Feed($first: Int!) {
  feed(first: $first) { nodes { ...PostBits } }
}
"""
FRAGMENT = "fragment PostBits on Post { id title }\n"
COMMUNITIES = "query Communities { communities { id name } }\nmutation In($e: String!, $p: String!) { login(email: $e, password: $p) { token } }\n"


def build(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["persisted", "build", *args])
    return result.exit_code, result.output


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_each_operation_is_one_entry_with_the_fragments_it_uses(tmp_path: Path) -> None:
    docs = write(tmp_path / "docs", {"feed.graphql": FEED})
    write(docs / "parts", {"bits.graphql": FRAGMENT})
    (docs / "notes.txt").write_text("not a document")
    out = tmp_path / "manifest.json"

    code, output = build(str(docs), "--out", str(out))

    assert code == 0, output
    data = json.loads(out.read_text())
    assert data["format"] == "apollo-persisted-query-manifest" and data["version"] == 1
    (feed,) = data["operations"]
    assert (feed["name"], feed["type"]) == ("Feed", "query")
    assert "fragment PostBits on Post" in feed["body"]
    assert feed["id"] == sha256_hex(feed["body"])
    assert load_manifest(out) == {feed["id"]: feed["body"]}


def test_the_same_files_give_the_same_bytes_in_either_order(tmp_path: Path) -> None:
    docs = write(tmp_path / "d", {"a.graphql": FEED + FRAGMENT, "b.graphql": COMMUNITIES})
    first, second = tmp_path / "1.json", tmp_path / "2.json"

    build(str(docs / "b.graphql"), str(docs / "a.graphql"), "--out", str(first), "--format", "map")
    build(str(docs), "--out", str(second), "--format", "map")

    assert first.read_bytes() == second.read_bytes()
    data = json.loads(first.read_text())
    assert list(data) == sorted(data) and len(data) == 3
    assert all(sha256_hex(body) == key for key, body in data.items())


def test_errors_name_the_file_and_line(tmp_path: Path) -> None:
    docs = write(
        tmp_path / "d",
        {
            "bad.graphql": "query Fine { me { id } }\n\nquery Broken {\n  nosuch\n}\n",
            "syntax.graphql": "query {\n  me {\n",
            "anonymous.graphql": "{ me { id } }",
            "again.graphql": "query Fine { me { id } }",
        },
    )
    out = tmp_path / "m.json"

    code, output = build(str(docs), "--out", str(out))

    assert code == 1
    assert f"{docs / 'bad.graphql'}:4: Cannot query field 'nosuch'" in output
    assert f"{docs / 'syntax.graphql'}:3: Syntax Error" in output
    assert f"{docs / 'anonymous.graphql'}:1: an operation needs a name" in output
    assert "operation Fine is also defined at" in output
    assert not out.exists()


def test_an_unknown_format_or_path_is_refused(tmp_path: Path) -> None:
    docs = write(tmp_path / "d", {"a.graphql": COMMUNITIES})

    assert build(str(docs), "--out", str(tmp_path / "m"), "--format", "xml")[0] == 2
    code, output = build(str(tmp_path / "nowhere"), "--out", str(tmp_path / "m"))
    assert code == 1 and "no such file" in output
