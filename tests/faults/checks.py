"""After a fault settles: what was lost, applied twice or left behind, read from the stores.

Lost: a write the client saw succeed that is not in content's database or not readable through
the gateway. Applied twice: one write's unique text stored twice. Unknown outcome: a write the
client saw fail that applied all the same (its answer was lost). Stuck: outbox rows never sent.
Lag: records on a topic that a service's consumer group has not committed yet. Dead-lettered:
records on a `.dlq` topic, each an event whose effect was given up.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faults.load import Outcome, classify
from sqlalchemy.engine import make_url

from plumbing.events.topics import ANONYMITY_ALIASES, AUDIT_IDENTITY_ACCESS, IDENTITY_PHYSICIANS

#: Each service's consumer group and what it reads (services/*/app.py).
GROUPS = {
    "anonymity": IDENTITY_PHYSICIANS,
    "content": ANONYMITY_ALIASES,
    "audit": AUDIT_IDENTITY_ACCESS,
}
READ_POST = "query($id: ID!) { post(id: $id) { id title } }"


@dataclass
class Writes:
    accepted: int = 0
    lost: int = 0
    twice: int = 0
    unknown: int = 0


async def _fetch(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
        database=parsed.database, timeout=30,
    )  # fmt: skip
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def check_writes(
    content_url: str, gateway_url: str, token: str, outcomes: Sequence[Outcome], prefix: str
) -> Writes:
    """Every write of `outcomes` (texts starting with `prefix`) against content's database."""
    stored: dict[str, Counter[str]] = {}
    for table, key, text in (("posts", "post_id", "title"), ("comments", "comment_id", "body")):
        rows = await _fetch(
            content_url, f"SELECT {key} AS id, {text} AS text FROM {table} WHERE {text} LIKE $1",
            prefix + "%",
        )  # fmt: skip
        for row in rows:
            stored.setdefault(row["text"], Counter())[row["id"]] += 1
    result = Writes()
    readable: list[Outcome] = []
    for outcome in outcomes:
        if not outcome.text:
            continue
        ids = stored.get(outcome.text, Counter())
        if sum(ids.values()) > 1:
            result.twice += 1
        if outcome.ok:
            result.accepted += 1
            if outcome.result_id not in ids:
                result.lost += 1
            elif outcome.kind == "create":
                readable.append(outcome)
        elif ids:
            result.unknown += 1
    result.lost += await _unreadable(gateway_url, token, readable)
    return result


async def _unreadable(gateway_url: str, token: str, posts: list[Outcome]) -> int:
    """Accepted posts the gateway cannot show with their title (after the retries settle)."""
    missing = 0
    async with httpx.AsyncClient(timeout=20, trust_env=False) as client:
        for outcome in posts:
            for _ in range(20):  # bounded retry: a read may meet the tail of a fault
                reply = await client.post(
                    gateway_url,
                    json={"query": READ_POST, "variables": {"id": outcome.result_id}},
                    headers={"authorization": f"Bearer {token}"},
                )
                code, data = classify(reply)
                if code == "OK":
                    break
                await asyncio.sleep(0.25)
            if code != "OK" or (data["post"] or {}).get("title") != outcome.text:
                missing += 1
    return missing


async def unsent_outbox(database_urls: dict[str, str]) -> int:
    total = 0
    for url in database_urls.values():
        rows = await _fetch(url, "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL")
        total += int(rows[0]["n"])
    return total


async def kafka_backlog(bootstrap: str) -> tuple[int, int]:
    """(consumer lag summed over the services' groups, records on dead-letter topics)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        await admin.start()
        await consumer.start()
        lag = 0
        for group, topic in GROUPS.items():
            # Every partition counts: one the group never committed lags by all it holds.
            partitions = [TopicPartition(topic, p) for p in await _partitions(consumer, topic)]
            committed = await admin.list_consumer_group_offsets(group)
            ends = await consumer.end_offsets(partitions)
            for tp in partitions:
                done = committed[tp].offset if tp in committed else 0
                lag += max(0, ends[tp] - max(done, 0))
        topics = [t for t in await consumer.topics() if t.endswith(".dlq")]
        partitions = [TopicPartition(t, p) for t in topics for p in await _partitions(consumer, t)]
        dead = sum((await consumer.end_offsets(partitions)).values()) if partitions else 0
        return lag, dead
    finally:
        await consumer.stop()
        await admin.close()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    known = consumer.partitions_for_topic(topic)
    if known is None:
        await consumer._client.force_metadata_update()
        known = consumer.partitions_for_topic(topic)
    return set(known or ())


@dataclass
class Settled:
    stuck: int
    lag: int
    dead: int
    seconds: float


async def dead_letters(bootstrap: str, within: float = 60) -> int:
    """Records on dead-letter topics now, retried while the broker is away (a shared one may be
    restarted by another test)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return (await kafka_backlog(bootstrap))[1]
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def settle(database_urls: dict[str, str], bootstrap: str, within: float) -> Settled:
    """Waits until every outbox is sent and every group caught up, or `within` seconds."""
    began = time.monotonic()
    while True:
        try:
            stuck = await unsent_outbox(database_urls)
            lag, dead = await kafka_backlog(bootstrap)
        except Exception:  # a store still coming back: try again until the bound
            stuck, lag, dead = -1, -1, -1
        spent = time.monotonic() - began
        if (stuck == 0 and lag == 0) or spent > within:
            return Settled(stuck, lag, dead, spent)
        await asyncio.sleep(0.5)
