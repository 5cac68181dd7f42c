"""deploy/kafka-acls.yaml on a real broker with a SASL/SCRAM listener and the standard authorizer:
each component's principal writes and reads exactly its topics; content is refused on identity's."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    TopicAuthorizationFailedError,
)

from plumbing.events.topics import IDENTITY_PHYSICIANS
from tests.deploy.kafka.acls import ACLS, TOPICS
from tests.deploy.kafka.broker import SaslBroker

pytestmark = pytest.mark.kafka
COMPONENTS = ["identity", "anonymity", "content", "audit", "gateway"]


def granted(principal: str, op: str) -> set[str]:
    """Topics on which the file grants `op` to `principal` (literal names)."""
    return {
        str(e["topic"])
        for e in ACLS[principal]
        if "topic" in e and op in e["ops"]  # type: ignore[operator]
    }


async def _can_write(broker: SaslBroker, principal: str, topic: str) -> bool:
    """An idempotent producer (acks=all), like the outbox relay's, sends one record."""
    producer = AIOKafkaProducer(
        **broker.client_args(principal), acks="all", enable_idempotence=True
    )
    try:
        await producer.start()
        await asyncio.wait_for(producer.send_and_wait(topic, b"probe"), 20)
        return True
    except TopicAuthorizationFailedError:
        return False
    except ClusterAuthorizationFailedError:  # no Write anywhere: not even a producer id
        return False
    finally:
        await producer.stop()


async def _visible(broker: SaslBroker, principal: str) -> set[str]:
    consumer = AIOKafkaConsumer(**broker.client_args(principal), group_id=None)
    await consumer.start()
    try:
        return set(await consumer.topics()) & set(TOPICS)
    finally:
        await consumer.stop()


async def _reads_seed(broker: SaslBroker, principal: str, topic: str, group: str | None) -> bool:
    consumer = AIOKafkaConsumer(
        **broker.client_args(principal), group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    try:
        if group is None:
            consumer.assign([TopicPartition(topic, 0)])
        else:
            consumer.subscribe([topic])
        record = await asyncio.wait_for(consumer.getone(), 30)
        return record.value == b"seed"
    finally:
        await consumer.stop()


@pytest.mark.parametrize("principal", COMPONENTS)
def test_each_principal_writes_exactly_its_topics(broker: SaslBroker, principal: str) -> None:
    async def writable() -> set[str]:
        results = await asyncio.gather(*(_can_write(broker, principal, t) for t in TOPICS))
        return {t for t, ok in zip(TOPICS, results, strict=True) if ok}

    assert asyncio.run(writable()) == granted(principal, "WRITE")


@pytest.mark.parametrize("principal", COMPONENTS)
def test_each_principal_sees_only_its_topics_and_reads_what_it_consumes(
    broker: SaslBroker, principal: str
) -> None:
    visible = asyncio.run(_visible(broker, principal))
    assert visible == granted(principal, "READ") | granted(principal, "WRITE")
    for topic in granted(principal, "READ"):
        group = "gateway-replica-1" if principal == "gateway" else principal
        assert asyncio.run(_reads_seed(broker, principal, topic, group)), topic


def test_content_is_refused_on_the_identity_topic(broker: SaslBroker) -> None:
    assert IDENTITY_PHYSICIANS not in asyncio.run(_visible(broker, "content"))
    assert not asyncio.run(_can_write(broker, "content", IDENTITY_PHYSICIANS))
    # while anonymity, its consumer, reads it in its own group
    assert asyncio.run(_reads_seed(broker, "anonymity", IDENTITY_PHYSICIANS, "anonymity"))


def test_a_principal_cannot_consume_in_another_component_group(broker: SaslBroker) -> None:
    with pytest.raises(GroupAuthorizationFailedError):
        asyncio.run(_reads_seed(broker, "gateway", "content.posts.v1", "content"))


def test_the_file_names_only_topics_and_groups_the_code_has() -> None:
    named = {str(e["topic"]) for entries in ACLS.values() for e in entries if "topic" in e}
    assert named - {"*"} <= set(TOPICS)
    assert set(ACLS) == {*COMPONENTS, "topics"}
