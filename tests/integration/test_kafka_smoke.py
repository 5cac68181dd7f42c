"""Smoke test of the real Kafka broker: topic admin, idempotent produce, group consume."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

pytestmark = pytest.mark.kafka

TIMEOUT_S = 60


async def _wait_for_topic(admin: AIOKafkaAdminClient, topic: str) -> None:
    """Poll the metadata (bounded) until the new topic has a partition with a leader."""
    async with asyncio.timeout(TIMEOUT_S):
        while True:
            [description] = await admin.describe_topics([topic])
            partitions = description.get("partitions") or []
            if description["error_code"] == 0 and partitions and partitions[0]["leader"] >= 0:
                return
            await asyncio.sleep(0.1)


async def test_keyed_message_with_headers_round_trips(kafka_bootstrap: str) -> None:
    topic = f"smoke-{uuid.uuid4().hex}"
    group = f"smoke-group-{uuid.uuid4().hex}"
    key, value = b"physician-42", b'{"hello": "kafka"}'
    headers = [("trace-id", b"abc123"), ("content-type", b"application/json")]

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        await _wait_for_topic(admin, topic)

        producer = AIOKafkaProducer(
            bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
        )
        await producer.start()
        try:
            async with asyncio.timeout(TIMEOUT_S):
                sent = await producer.send_and_wait(topic, value=value, key=key, headers=headers)
        finally:
            await producer.stop()
        assert sent.topic == topic
        assert sent.offset == 0

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            async with asyncio.timeout(TIMEOUT_S):
                record = await consumer.getone()
                await consumer.commit()
                committed = await consumer.committed(TopicPartition(topic, 0))
        finally:
            await consumer.stop()

        assert record.key == key
        assert record.value == value
        assert [(k, v) for k, v in record.headers] == headers
        assert record.offset == sent.offset
        assert committed == sent.offset + 1
    finally:
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()
