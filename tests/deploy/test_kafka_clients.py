"""Our own event clients on the SASL broker (the ACL tests' broker, started once): built by
`create_bus` from the variables the chart sets, content's principal publishes on its topic and
consumes its topic in its group through `EventConsumer`, is refused on identity's topic, and a
wrong password or CA fails with an error that says so. SCRAM-SHA-512/256, PLAIN and SASL_SSL."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import TopicAuthorizationFailedError
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from consilium.events.v1 import anonymity_events_pb2, content_events_pb2
from plumbing.events.bus import EventBus
from plumbing.events.consumer import EventConsumer
from plumbing.events.envelope import Event, new_event
from plumbing.events.factory import create_bus
from plumbing.events.kafka_security import (
    CAFILE_ENV,
    MECHANISM_ENV,
    PASSWORD_ENV,
    PROTOCOL_ENV,
    USERNAME_ENV,
    KafkaSettingsError,
)
from plumbing.events.tables import processed_table
from plumbing.events.topics import ANONYMITY_ALIASES, CONTENT_POSTS, IDENTITY_PHYSICIANS
from tests.deploy.kafka.broker import ADMIN, SaslBroker
from tests.deploy.kafka.tls import make_broker_tls

pytestmark = pytest.mark.kafka


def component_bus(
    broker: SaslBroker,
    principal: str,
    tmp_path: Path,
    *,
    mechanism: str = "SCRAM-SHA-512",
    password: str | None = None,
    ca_file: Path | None = None,
) -> EventBus:
    """The bus a component builds from the chart's variables (TLS when `ca_file` is given)."""
    env = {
        PROTOCOL_ENV: "SASL_SSL" if ca_file else "SASL_PLAINTEXT",
        MECHANISM_ENV: mechanism,
        USERNAME_ENV: principal,
        PASSWORD_ENV: password or broker.passwords[principal],
    }
    if ca_file:
        env[CAFILE_ENV] = str(ca_file)
    return create_bus(
        kafka_bootstrap=broker.tls_bootstrap if ca_file else broker.bootstrap,
        data_dir=tmp_path,
        client_id=f"{principal}-test",
        environ=env,
    )


def post_created() -> Event:
    post_id = uuid.uuid4().hex
    message = content_events_pb2.PostCreated(post_id=post_id)
    return new_event(message, topic=CONTENT_POSTS, key=post_id, source="content")


async def published_ids(broker: SaslBroker, topic: str) -> set[str]:
    """Event ids on partition 0 of `topic`, read by the super user."""
    consumer = AIOKafkaConsumer(**broker.client_args(ADMIN), group_id=None)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        end = (await consumer.end_offsets([partition]))[partition]
        ids: set[str] = set()
        while await consumer.position(partition) < end:
            batch = await consumer.getmany(partition, timeout_ms=1000)
            for message in batch.get(partition, []):
                ids |= {v.decode() for k, v in message.headers if k == "ce_id"}
        return ids
    finally:
        await consumer.stop()


@pytest.fixture
async def content_offsets_restored(broker: SaslBroker) -> AsyncIterator[None]:
    """Puts group `content` back at the start of its topic, where the ACL tests expect it."""
    yield
    consumer = AIOKafkaConsumer(
        **broker.client_args(ADMIN), group_id="content", enable_auto_commit=False
    )
    await consumer.start()
    try:
        partition = TopicPartition(ANONYMITY_ALIASES, 0)
        consumer.assign([partition])
        await consumer.commit({partition: 0})
    finally:
        await consumer.stop()


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"])
async def test_content_publishes_on_its_topic(
    broker: SaslBroker, tmp_path: Path, mechanism: str
) -> None:
    bus = component_bus(broker, "content", tmp_path, mechanism=mechanism)
    event = post_created()
    try:
        await asyncio.wait_for(bus.publish([event]), 30)
    finally:
        await bus.close()
    assert event.id in await published_ids(broker, CONTENT_POSTS)


async def test_content_consumes_its_topic_in_its_group(
    broker: SaslBroker, tmp_path: Path, content_offsets_restored: None
) -> None:
    """Anonymity's principal publishes, content's `EventConsumer` (group `content`) applies."""
    alias_id = uuid.uuid4().hex
    event = new_event(
        anonymity_events_pb2.AliasSuspended(alias_id=alias_id),
        topic=ANONYMITY_ALIASES,
        key=alias_id,
        source="anonymity",
    )
    anonymity = component_bus(broker, "anonymity", tmp_path)
    try:
        await asyncio.wait_for(anonymity.publish([event]), 30)
    finally:
        await anonymity.close()

    metadata = MetaData()
    processed = processed_table(metadata)
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'content.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    seen = asyncio.Event()

    async def handler(got: Event, session: AsyncSession) -> None:
        if got.id == event.id:
            seen.set()

    content = component_bus(broker, "content", tmp_path)
    consumer = EventConsumer(
        content, engine, processed, group="content", topics=[ANONYMITY_ALIASES], handler=handler
    )
    await consumer.start()
    try:
        await asyncio.wait_for(seen.wait(), 30)
    finally:
        await consumer.stop()
        await content.close()
        await engine.dispose()
    # the seed (and the ACL tests' probe) records are no events: content's principal
    # dead-lettered them on its own DLQ, which it may write
    assert consumer.dead_lettered >= 1


async def test_content_is_refused_on_the_identity_topic(broker: SaslBroker, tmp_path: Path) -> None:
    bus = component_bus(broker, "content", tmp_path)
    event = post_created()
    refused = dataclasses.replace(event, topic=IDENTITY_PHYSICIANS)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await asyncio.wait_for(bus.publish([refused]), 30)
        # joining its own group on identity's topic fails: an EventConsumer never gets to read
        with pytest.raises(TopicAuthorizationFailedError):
            await bus.subscribe(group="content", topics=[IDENTITY_PHYSICIANS])
    finally:
        await bus.close()
    assert event.id not in await published_ids(broker, IDENTITY_PHYSICIANS)


async def test_a_wrong_password_fails_with_a_clear_error(
    broker: SaslBroker, tmp_path: Path
) -> None:
    bus = component_bus(broker, "content", tmp_path, password="not-the-password")
    try:
        with pytest.raises(KafkaSettingsError) as caught:
            await asyncio.wait_for(bus.publish([post_created()]), 30)
    finally:
        await bus.close()
    message = str(caught.value)
    assert "refused SASL_PLAINTEXT as 'content' (SCRAM-SHA-512)" in message
    assert "CONSILIUM_KAFKA_SASL_PASSWORD" in message and "not-the-password" not in message


async def test_sasl_ssl_end_to_end(broker: SaslBroker, tmp_path: Path) -> None:
    bus = component_bus(broker, "content", tmp_path, ca_file=broker.ca_file)
    event = post_created()
    try:
        await asyncio.wait_for(bus.publish([event]), 30)
    finally:
        await bus.close()
    assert event.id in await published_ids(broker, CONTENT_POSTS)


async def test_a_broker_certificate_from_another_ca_is_refused(
    broker: SaslBroker, tmp_path: Path
) -> None:
    other_ca = make_broker_tls(tmp_path).ca_file
    bus = component_bus(broker, "content", tmp_path, ca_file=other_ca)
    try:
        with pytest.raises(KafkaSettingsError, match=r"TLS handshake .* failed.*SSL_CAFILE"):
            await asyncio.wait_for(bus.publish([post_created()]), 30)
    finally:
        await bus.close()
