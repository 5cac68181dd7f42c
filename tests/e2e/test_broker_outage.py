"""Kafka goes away mid-flow: writes through GraphQL still succeed, every event arrives once the
broker is back, and redelivered events change nothing. kcat reads every topic."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from support.system import System, run_system
from test_event_flows import (
    CREATE,
    eventually,
    feed,
    post_input,
    verified_count,
    verified_member,
    write_banned,
)

from plumbing.auth import Role
from plumbing.events.topics import IDENTITY_PHYSICIANS, topic_specs
from services.identity.adapters.tables import event_tables as identity_events

pytestmark = pytest.mark.kafka
REPO = Path(__file__).resolve().parents[2]


def kafka_script(command: str) -> None:
    """scripts/kafka.sh on the broker `make test` started (same run dir)."""
    assert os.environ.get("CONSILIUM_RUN_DIR"), "run through scripts/test.sh (make test)"
    subprocess.run(
        ["bash", str(REPO / "scripts" / "kafka.sh"), command],
        check=True,
        timeout=180,
        capture_output=True,
    )


@pytest.fixture
async def system(tmp_path: Path, kafka_bootstrap: str) -> AsyncIterator[System]:
    async with run_system(
        tmp_path / "data", events=True, kafka_bootstrap=kafka_bootstrap, k_anonymity=2
    ) as running:
        yield running


async def specialty_of(system: System, post_id: str) -> Any:
    return (await feed(system))[post_id]["author"]["specialty"]


async def test_outage_loses_nothing_and_applies_nothing_twice(system: System) -> None:
    _, admin = await system.account(Role.ADMIN)
    suspended_id, suspended = await verified_member(system, admin, "207W00000X")
    before = (await system.graphql(CREATE, post_input("Before", "PSEUDONYMOUS"), token=suspended))[
        "data"
    ]["createPost"]
    _, colleague = await verified_member(system, admin, "207W00000X")

    kafka_script("pause")
    try:
        during = [
            (await system.graphql(CREATE, post_input(f"During {i}", "ANONYMOUS"), token=colleague))[
                "data"
            ]["createPost"]["id"]
            for i in range(3)
        ]
        kept_later = (
            await system.graphql(CREATE, post_input("Mine", "ANONYMOUS"), token=suspended)
        )["data"]["createPost"]["id"]
        await system.graphql(
            'mutation($u: ID!) { suspendPhysician(userId: $u, reason: "spam") { id } }',
            {"u": suspended_id},
            token=admin,
        )
        async with system.identity.engine.connect() as conn:
            waiting = await conn.scalar(
                select(func.count())
                .select_from(identity_events.outbox)
                .where(identity_events.outbox.c.sent_at.is_(None))
            )
        assert waiting, "with the broker away, identity's events wait in its outbox"
    finally:
        kafka_script("resume")

    async def settled() -> bool:
        posts = await feed(system)
        return set(during) <= set(posts) and await write_banned(system, suspended_id)

    await eventually(settled, wait=90)
    # An account's suspension stops the person and hides nothing they wrote (P2).
    assert {before["id"], kept_later} <= set(await feed(system))

    # Redeliver everything identity ever sent; applied twice, a verification would count
    # twice and the k=2 specialty would show with a single verified ophthalmologist left.
    consumer = system.anonymity.events.consumers[0]
    skipped = consumer.skipped
    async with system.identity.engine.begin() as conn:
        # Only what anonymity consumes: identity's outbox also holds its audit events now.
        physicians = identity_events.outbox.c.topic == IDENTITY_PHYSICIANS
        resent = (
            await conn.execute(
                update(identity_events.outbox).where(physicians).values(sent_at=None)
            )
        ).rowcount
    system.identity.events.relay.notify()

    async def redelivered() -> bool:
        return consumer.skipped >= skipped + resent

    await eventually(redelivered, wait=60)
    assert await verified_count(system, "207W00000X") == 1
    # K is checked when an alias is made: a new thread's alias shows no specialty.
    after = (await system.graphql(CREATE, post_input("After", "ANONYMOUS"), token=colleague))[
        "data"
    ]["createPost"]
    assert await specialty_of(system, after["id"]) is None
    assert await write_banned(system, suspended_id), "still suspended after the redelivery"


def kcat(bootstrap: str, topic: str) -> list[tuple[str, dict[str, str]]]:
    """(key, headers) of every record on `topic`, read by kcat (payloads are binary protobuf)."""
    reply = subprocess.run(
        [
            "kcat",
            "-b",
            bootstrap,
            "-C",
            "-t",
            topic,
            "-o",
            "beginning",
            "-e",
            "-q",
            "-f",
            "%k\t%h\n",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    records = []
    for line in reply.stdout.decode(errors="replace").splitlines():
        key, _, raw_headers = line.partition("\t")
        headers = dict(h.split("=", 1) for h in raw_headers.split(",") if "=" in h)
        records.append((key, headers))
    return records


async def test_kcat_reads_every_topic(system: System, kafka_bootstrap: str) -> None:
    _, admin = await system.account(Role.ADMIN)
    _, author = await verified_member(system, admin)
    post = (await system.graphql(CREATE, post_input("For kcat", "ANONYMOUS"), token=author))[
        "data"
    ]["createPost"]
    _, moderator = await system.account(Role.MODERATOR)
    await system.graphql(
        'mutation($a: ID!) { suspendAuthor(aliasId: $a, reason: "test") }',
        {"a": post["author"]["aliasId"]},
        token=moderator,
    )

    deadline = time.monotonic() + 60
    topics = [s.name for s in topic_specs() if not s.name.endswith(".dlq")]
    seen: dict[str, list[tuple[str, dict[str, str]]]] = {}
    while time.monotonic() < deadline:
        seen = {t: await asyncio.to_thread(kcat, kafka_bootstrap, t) for t in topics}
        if all(seen.values()):
            break
        await asyncio.sleep(0.5)
    for topic in topics:
        assert seen[topic], f"kcat found nothing on {topic}"
        _, headers = seen[topic][-1]
        assert {"ce_id", "ce_type", "ce_source", "ce_time", "ce_specversion"} <= set(headers)
        assert headers["ce_type"].startswith("consilium.events.v1.")
    assert any(key == post["id"] for key, _ in seen["content.posts.v1"])
