"""The SASL broker as the Kafka tests need it: deploy/kafka-acls.yaml applied, every topic made
by the topic Job's principal and seeded with one record."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from plumbing.events.topics import topic_specs
from tests.deploy.kafka.broker import ADMIN, SaslBroker, apply_acls, sasl_broker

ROOT = Path(__file__).resolve().parents[3]
ACLS: dict[str, list[dict[str, object]]] = yaml.safe_load(
    (ROOT / "deploy/kafka-acls.yaml").read_text()
)
TOPICS = [spec.name for spec in topic_specs()]


def acl_lines() -> list[str]:
    lines = []
    for principal, entries in ACLS.items():
        for entry in entries:
            (kind,) = [k for k in ("topic", "group", "cluster") if k in entry]
            ops = entry["ops"]
            assert isinstance(ops, list)
            for op in ops:
                pattern = entry.get("pattern", "LITERAL")
                lines.append(f"User:{principal}|{kind.upper()}|{entry[kind]}|{pattern}|{op}")
    return lines


async def _admin_ready(broker: SaslBroker) -> None:
    """Bounded wait until the broker answers an admin call."""
    for _ in range(150):
        admin = AIOKafkaAdminClient(**broker.client_args(ADMIN))
        try:
            await admin.start()
            await admin.list_topics()
            return
        except Exception:  # not up yet
            await asyncio.sleep(0.2)
        finally:
            await admin.close()
    pytest.fail("the SASL broker never answered")


async def _create_topics_as(broker: SaslBroker, principal: str) -> None:
    """What `consilium topics create` does, as the topic Job's principal."""
    admin = AIOKafkaAdminClient(**broker.client_args(principal))
    await admin.start()
    try:
        assert set(await admin.list_topics()).isdisjoint(TOPICS)
        await admin.create_topics([NewTopic(name, 1, 1) for name in TOPICS])
    finally:
        await admin.close()


async def _seed(broker: SaslBroker) -> None:
    producer = AIOKafkaProducer(**broker.client_args(ADMIN))
    await producer.start()
    try:
        for topic in TOPICS:
            await producer.send_and_wait(topic, b"seed")
    finally:
        await producer.stop()


@contextmanager
def prepared_broker(workdir: Path) -> Iterator[SaslBroker]:
    with sasl_broker(workdir, list(ACLS)) as running:
        asyncio.run(_admin_ready(running))
        apply_acls(running, acl_lines())
        asyncio.run(_create_topics_as(running, "topics"))
        asyncio.run(_seed(running))
        yield running
