"""P1: users with canary strings in every identity field go through every flow; content's
database files, its log output, its spans and its topics (the one it writes and the one it
consumes) never contain any of them, nor any user id."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.ports import free_port
from support.system import System, next_npi, run_system

from cli.dev import wait_grpc_serving
from plumbing.auth import Role
from plumbing.events.factory import embedded_path
from plumbing.events.topics import ANONYMITY_ALIASES, CONTENT_POSTS

CANARY_EMAIL = "canary.mail.q7x@canary-clinic.example"
CANARY_NAME = "Dr. Zyxwquv Canaryson"
CANARY_EMAIL_2 = "second.canary.k2p@canary-clinic.example"
CANARY_NAME_2 = "Dr. Wvutsr Canarydottir"

CREATE = (
    """mutation($input: CreatePostInput!) { createPost(input: $input) { id author { aliasId } } }"""
)
COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"""


@pytest.fixture
def content_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """Content as its own process, logging at DEBUG and printing every span."""
    port = free_port()
    log_path = tmp_path / "content-output.log"
    env = {
        **os.environ,
        "CONSILIUM_DATA_DIR": str(tmp_path / "data"),
        "CONSILIUM_CONTENT_LOG_LEVEL": "DEBUG",
        "OTEL_TRACES_EXPORTER": "console",
    }
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "content", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, f"127.0.0.1:{port}", log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


async def _every_flow(system: System) -> tuple[list[str], list[str]]:
    """Registers the canary users and runs every GraphQL flow; returns canaries and user ids."""
    npi_1, npi_2 = next_npi(), next_npi()
    first_id, _ = await system.register(email=CANARY_EMAIL, fullName=CANARY_NAME, npi=npi_1)
    second_id, _ = await system.register(email=CANARY_EMAIL_2, fullName=CANARY_NAME_2, npi=npi_2)
    _, admin = await system.account(Role.ADMIN)
    verify = "mutation($u: ID!) { verifyPhysician(userId: $u, approve: true) { id } }"
    for user_id in (first_id, second_id):
        await system.graphql(verify, {"u": user_id}, token=admin)
    login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
    tokens = []
    for email in (CANARY_EMAIL, CANARY_EMAIL_2):
        body = await system.graphql(login, {"e": email, "p": "correct horse battery staple 42"})
        tokens.append(body["data"]["login"]["token"])
    author, other = tokens

    posts = []
    for visibility in ("IDENTIFIED", "PSEUDONYMOUS", "ANONYMOUS"):
        posts.append(
            await system.graphql(
                CREATE,
                {
                    "input": {
                        "kind": "DISCUSSION",
                        "community": "lounge-stories",
                        "title": f"{visibility} shift",
                        "body": "Long night, good team.",
                        "visibility": visibility,
                    }
                },
                token=author,
            )
        )
    posts.append(
        await system.graphql(
            CREATE,
            {
                "input": {
                    "kind": "CASE",
                    "community": "cardiology",
                    "title": "Chest pain, normal ECG",
                    "body": "Would value a second look.",
                    "visibility": "IDENTIFIED",
                    "case": {
                        "ageBand": "MIDDLE_AGED",
                        "sex": "FEMALE",
                        "presentingComplaint": "Pleuritic chest pain",
                        "history": "Troponin 0.02 ng/mL twice",
                        "question": "CT angiography or discharge?",
                    },
                }
            },
            token=author,
        )
    )
    posts.append(
        await system.graphql(
            CREATE,
            {
                "input": {
                    "kind": "POLL",
                    "community": "lounge-careers",
                    "title": "Night float?",
                    "visibility": "ANONYMOUS",
                    "pollOptions": ["Love it", "Hate it"],
                }
            },
            token=author,
        )
    )
    ids = [p["data"]["createPost"]["id"] for p in posts]
    for visibility, token in (
        ("IDENTIFIED", other),
        ("PSEUDONYMOUS", author),
        ("ANONYMOUS", other),
    ):
        await system.graphql(
            COMMENT,
            {"input": {"postId": ids[0], "body": "Agreed.", "visibility": visibility}},
            token=token,
        )
    await system.graphql(
        "mutation($p: ID!) { react(postId: $p, reaction: SUPPORT) { id } }",
        {"p": ids[1]},
        token=other,
    )
    await system.graphql(
        "mutation($p: ID!) { votePoll(postId: $p, option: 0) { totalVotes } }",
        {"p": ids[4]},
        token=other,
    )
    reading = """query($id: ID!) { feed(first: 10) { nodes { id author { handle displayName isViewer }
      viewerIsAuthor commentCount reactions { total viewerReaction } poll { totalVotes }
      comments(first: 5) { nodes { author { handle isViewer } viewerIsAuthor } } } }
      search(text: "night") { nodes { id } } post(id: $id) { id } me { id } }"""
    for token in (author, other):
        await system.graphql(reading, {"id": ids[0]}, token=token)
    _, moderator = await system.account(Role.MODERATOR)
    alias = posts[2]["data"]["createPost"]["author"]["aliasId"]
    await system.graphql(
        'mutation($a: ID!) { revealAuthor(aliasId: $a, purpose: "harassment report") { id } }',
        {"a": alias},
        token=moderator,
    )
    await system.graphql(
        'mutation($a: ID!) { suspendAuthor(aliasId: $a, reason: "harassment") }',
        {"a": alias},
        token=moderator,
    )
    canaries = [
        CANARY_EMAIL,
        CANARY_NAME,
        CANARY_EMAIL_2,
        CANARY_NAME_2,
        npi_1,
        npi_2,
        "Canaryson",
        "Canarydottir",
        "canary-clinic",
    ]
    return canaries, [first_id, second_id]


def _topic_bytes(data_dir: Path, topic: str) -> bytes:
    """Every key, value and header of `topic` on the embedded bus, as raw bytes."""
    with sqlite3.connect(embedded_path(data_dir)) as conn:
        rows = conn.execute(
            "SELECT key, value, headers FROM records WHERE topic = ?", (topic,)
        ).fetchall()
    chunks: list[bytes] = []
    for key, value, headers in rows:
        chunks += [key or b"", value or b""]
        chunks += [base64.b64decode(v) + name.encode() for name, v in json.loads(headers)]
    return b"\n".join(chunks)


async def _wait_for_topic(data_dir: Path, topic: str) -> None:
    deadline = time.monotonic() + 30
    while not _topic_bytes(data_dir, topic):
        assert time.monotonic() < deadline, f"nothing reached {topic}"
        await asyncio.sleep(0.1)


def _content_files(data_dir: Path) -> list[Path]:
    files = sorted((data_dir / "content").glob("content.db*"))
    assert files, "content's database file was not found"
    return files


async def test_content_never_sees_identity(
    tmp_path: Path, content_process: tuple[subprocess.Popen[bytes], str, Path]
) -> None:
    process, address, log_path = content_process
    await wait_grpc_serving(address, "consilium.content.v1.ContentService", process)
    async with run_system(tmp_path / "data", content_address=address, events=True) as system:
        canaries, user_ids = await _every_flow(system)
        # Let the flows' events settle: suspension reaches content through the bus.
        await _wait_for_topic(tmp_path / "data", ANONYMITY_ALIASES)
        identity_db = b"".join(
            p.read_bytes() for p in (tmp_path / "data" / "identity").glob("identity.db*")
        )
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0

    # Positive controls: the canaries really went in, and content really logged and traced.
    assert CANARY_NAME.encode() in identity_db and CANARY_EMAIL.encode() in identity_db
    output = log_path.read_bytes()
    assert b"rpc /consilium.content.v1.ContentService/CreatePost" in output
    assert b'"trace_id"' in output, "spans were not exported to the log"

    scanned = {path.name: path.read_bytes() for path in _content_files(tmp_path / "data")}
    scanned[log_path.name] = output
    for topic in (CONTENT_POSTS, ANONYMITY_ALIASES):
        records = _topic_bytes(tmp_path / "data", topic)
        assert records, f"{topic} is empty: the flows did not reach it"
        scanned[topic] = records
    for name, data in scanned.items():
        lowered = data.lower()
        for canary in [*canaries, *user_ids, "usr_"]:
            assert canary.lower().encode() not in lowered, f"{canary!r} found in {name}"
