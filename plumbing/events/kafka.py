"""The event bus on Apache Kafka (aiokafka): idempotent producer, manual commits, admin.

Every client is made with the process's `KafkaSecurity` (SASL, TLS) and started by `_start`,
which turns a refused login or TLS handshake into an error that says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from plumbing.events.bus import Record, Subscription, TopicSpec
from plumbing.events.envelope import Event, MalformedEvent, from_record
from plumbing.events.kafka_security import KafkaSecurity, explain_failure

log = logging.getLogger("consilium.events.kafka")


class _Client(Protocol):
    async def start(self) -> None: ...


async def start_client(client: _Client, bootstrap: str, security: KafkaSecurity) -> None:
    """Starts an aiokafka client; when it cannot bootstrap, says whether the broker refused
    our credentials or certificate (a `KafkaSettingsError`) rather than only that it failed."""
    try:
        await client.start()
    except KafkaConnectionError as exc:
        explained = await explain_failure(bootstrap, security)
        if explained is not None:
            raise explained from exc
        raise


class KafkaSubscription:
    """One consumer-group member; offsets are committed only when asked (after processing)."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer
        self._committed: dict[TopicPartition, int] = {}

    async def fetch(self, *, max_records: int, wait: float) -> list[Record]:
        batches = await self._consumer.getmany(timeout_ms=int(wait * 1000), max_records=max_records)
        records: list[Record] = []
        for partition, messages in batches.items():
            for message in messages:
                headers = tuple((k, v or b"") for k, v in message.headers or ())
                event: Event | None = None
                error: MalformedEvent | None = None
                try:
                    event = from_record(partition.topic, message.key, message.value, headers)
                except MalformedEvent as exc:
                    error = exc
                records.append(
                    Record(
                        partition.topic,
                        partition.partition,
                        message.offset,
                        message.key,
                        message.value,
                        headers,
                        event,
                        error,
                    )
                )
        return records

    async def commit(self, records: Sequence[Record]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
        if offsets:
            await self._consumer.commit(offsets)
            self._committed.update(offsets)

    async def lag(self) -> dict[tuple[str, int], int]:
        """High watermark (as of the last fetch) minus the group's committed offset (ours, else
        the broker's, else the log's start): what is fetched but not yet done counts as lag.
        Partitions not fetched yet have no known watermark and are left out, not guessed."""
        lags: dict[tuple[str, int], int] = {}
        for partition in self._consumer.assignment():
            high = self._consumer.highwater(partition)
            if high is None:
                continue
            done = self._committed.get(partition)
            if done is None:
                done = await self._consumer.committed(partition)
            if done is None:
                done = (await self._consumer.beginning_offsets([partition]))[partition]
            lags[(partition.topic, partition.partition)] = max(high - done, 0)
        return lags

    async def close(self) -> None:
        await self._consumer.stop()


class KafkaBus:
    """`EventBus` over a Kafka cluster at `bootstrap` (e.g. `127.0.0.1:9092`), connecting with
    `security` (PLAINTEXT when None)."""

    def __init__(
        self, bootstrap: str, *, client_id: str, security: KafkaSecurity | None = None
    ) -> None:
        self._bootstrap = bootstrap
        self._security = security or KafkaSecurity()
        #: The same connection settings for every client this bus makes.
        self._args: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "client_id": client_id,
            **self._security.client_args(),
        }
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Nothing to do yet: the producer connects on first publish, so a service starts
        (and keeps accepting writes into its outbox) while the broker is away."""

    async def _ready_producer(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    **self._args,
                    enable_idempotence=True,  # no duplicates or reordering from retries
                    acks="all",
                    request_timeout_ms=10_000,
                )
                try:
                    await start_client(producer, self._bootstrap, self._security)
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.flush()
            await self._producer.stop()
            self._producer = None

    async def publish(self, events: Sequence[Event]) -> None:
        producer = await self._ready_producer()
        # Sent in order; with idempotence the broker keeps that order per partition (= key).
        futures = [
            await producer.send(
                event.topic, key=event.key.encode(), value=event.data, headers=event.headers()
            )
            for event in events
        ]
        for future in futures:
            await future

    async def publish_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
    ) -> None:
        producer = await self._ready_producer()
        await producer.send_and_wait(topic, key=key, value=value, headers=list(headers))

    async def subscribe(
        self, *, group: str, topics: Sequence[str], from_beginning: bool = True
    ) -> Subscription:
        consumer = AIOKafkaConsumer(
            *topics,
            **self._args,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest" if from_beginning else "latest",
            isolation_level="read_committed",
        )
        try:
            await start_client(consumer, self._bootstrap, self._security)
        except BaseException:
            await consumer.stop()
            raise
        return KafkaSubscription(consumer)

    async def create_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        admin = AIOKafkaAdminClient(**self._args)
        try:
            await start_client(admin, self._bootstrap, self._security)
            existing = set(await admin.list_topics())
            wanted = [s for s in specs if s.name not in existing]
            if wanted:
                try:
                    await admin.create_topics(
                        [
                            NewTopic(
                                name=s.name,
                                num_partitions=s.partitions,
                                replication_factor=s.replication_factor,
                                topic_configs={
                                    "retention.ms": str(s.retention_ms),
                                    "cleanup.policy": s.cleanup_policy,
                                },
                            )
                            for s in wanted
                        ]
                    )
                except TopicAlreadyExistsError:
                    log.info("a topic was created concurrently")
            return [s.name for s in wanted]
        finally:
            await admin.close()
