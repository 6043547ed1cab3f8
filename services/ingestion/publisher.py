"""The only place ingestion talks to Kafka: publish events and wait for the broker's acknowledgement.

One record per event, keyed by its contact key, but not one FastStream publish per record: that cost ~30 µs each
and was most of a 100-event request. Records are appended instead to one open record batch per partition of the
producer that FastStream's broker connected, shared by every request in flight. A batch is handed to the producer
as soon as it is opened and takes records until the producer's sender takes it (when the batch before it on that
partition was acknowledged) or it is full; then the next one opens. That is aiokafka's own accumulator at work,
as for single sends, at ~1 µs per record. Each request waits for the batches that hold its records.

Rejected on measurements: each request's records as a batch of its own (aiokafka admits one pending batch per
partition, so concurrent requests queued one behind the other), and FastStream's `publish_batch` with a key per
`KafkaPublishMessage` (~3 µs more per record, and the batch can only be built when it is sent).
"""

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.producer.message_accumulator import BatchBuilder
from faststream.kafka import KafkaBroker
from faststream.kafka.publisher.producer import AioKafkaFastProducerImpl

from schemas import OutreachEvent
from services.ingestion.partitioning import partition_for

HEADERS = [("content-type", b"application/json")]
MAX_BATCH_BYTES = 262_144
"""Record batch size of ingestion's producer: the records of all requests in flight (a few hundred) fit in one."""


class BrokerUnavailable(Exception):
    """The broker did not acknowledge every event in time: nothing may be reported as accepted."""


class EventSink(Protocol):
    async def publish(self, events: Sequence[OutreachEvent]) -> None: ...


def connected_producer(broker: KafkaBroker) -> AIOKafkaProducer:
    """The aiokafka producer FastStream's broker started (and stops): the one its publishers send through."""
    producer = broker.config.producer
    if not isinstance(producer, AioKafkaFastProducerImpl):
        raise TypeError(f"FastStream's Kafka producer is a {type(producer).__name__}, not AioKafkaFastProducerImpl")
    return producer._producer.producer  # raises IncorrectState until the broker is connected


class _OpenBatch:
    """A record batch that takes records until the producer's sender takes it, and the wait for its delivery."""

    def __init__(self, builder: BatchBuilder) -> None:
        self.builder = builder
        self.delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def settle(self, sent: "asyncio.Future[Any]") -> None:
        if sent.cancelled():
            self.fail(RuntimeError("the delivery was cancelled"))
        elif (exc := sent.exception()) is not None:
            self.fail(exc)
        elif not self.delivered.done():
            self.delivered.set_result(None)

    def fail(self, exc: BaseException) -> None:
        self.builder.close()  # nothing more may join a batch that will not arrive
        if not self.delivered.done():
            self.delivered.set_exception(exc)
            self.delivered.exception()  # requests that timed out no longer look at it


class KafkaEventSink:
    def __init__(self, broker: KafkaBroker, topic: str, timeout_seconds: float) -> None:
        self.broker = broker
        self.topic = topic
        self.publisher = broker.publisher(
            topic, schema=OutreachEvent, description="Every accepted touch, keyed by the contact key."
        )
        self.timeout_seconds = timeout_seconds
        self._open: dict[int, _OpenBatch] = {}
        self._handing_over: dict[int, asyncio.Task[None]] = {}

    async def publish(self, events: Sequence[OutreachEvent]) -> None:
        try:
            await asyncio.wait_for(self._send_all(events), self.timeout_seconds)
        except Exception as exc:
            raise BrokerUnavailable(type(exc).__name__) from exc

    async def _send_all(self, events: Sequence[OutreachEvent]) -> None:
        producer = connected_producer(self.broker)
        partitions = len(await producer.partitions_for(self.topic))
        serialise = OutreachEvent.__pydantic_serializer__.to_json
        deliveries: set[asyncio.Future[None]] = set()
        for event in events:
            key = event.contact_key.encode()
            deliveries.add(self._append(producer, partition_for(key, partitions), key, serialise(event)))
        await asyncio.gather(*(asyncio.shield(delivery) for delivery in deliveries))

    def _append(self, producer: AIOKafkaProducer, partition: int, key: bytes, value: bytes) -> asyncio.Future[None]:
        batch = self._open.get(partition)
        if batch is None or batch.builder.append(key=key, value=value, timestamp=None, headers=HEADERS) is None:
            batch = self._open[partition] = _OpenBatch(producer.create_batch())
            batch.builder.append(key=key, value=value, timestamp=None, headers=HEADERS)  # a first record always fits
            previous = self._handing_over.get(partition)
            self._handing_over[partition] = asyncio.create_task(self._hand_over(producer, partition, batch, previous))
        return batch.delivered

    async def _hand_over(
        self, producer: AIOKafkaProducer, partition: int, batch: _OpenBatch, previous: asyncio.Task[None] | None
    ) -> None:
        """Queue the batch behind the partition's previous one (aiokafka holds one per partition until sent)."""
        if previous is not None:
            await asyncio.wait([previous])
        try:
            sent = await producer.send_batch(batch.builder, self.topic, partition=partition)
        except Exception as exc:  # noqa: BLE001 - every request waiting on this batch answers 503 with the reason
            batch.fail(exc)
            if self._open.get(partition) is batch:
                del self._open[partition]
        else:
            sent.add_done_callback(batch.settle)
