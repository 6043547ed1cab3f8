"""The only place ingestion talks to Kafka: publish events and wait for the broker's acknowledgement.

One record per event, keyed by its contact key, but not one FastStream publish per record: that cost ~30 µs each
and was most of a 100-event request. The records of every request in flight are gathered per partition while the
previous round is on its way; each partition's records then go out as one FastStream `publish_batch` (a Kafka
record batch with a key per `KafkaPublishMessage`), the next round as soon as the broker acknowledged the last.
Every request waits for the round that carries its records. That is what aiokafka's accumulator does for single
sends, at ~4 µs per record, and FastStream's publisher middlewares (its Prometheus metrics) still see every record.

Rejected on measurements: each request's records as a batch of its own (aiokafka admits one pending batch per
partition, so concurrent requests queued one behind the other), and appending to record batches of the aiokafka
producer under FastStream's broker (~3 µs less per record, but past FastStream's publisher and its middlewares).
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from faststream.kafka import KafkaBroker, KafkaPublishMessage

from schemas import OutreachEvent
from services.runtime.partitioning import partition_for

HEADERS = {"content-type": "application/json"}
MAX_BATCH_BYTES = 262_144
"""Record batch size of ingestion's producer: a round's records for one partition (a few hundred) fit in one."""
BATCH_HEADER_BYTES = 61
RECORD_OVERHEAD_BYTES = 160
"""More than a record's framing and headers (varints, content-type, FastStream's correlation id) can take."""
PARTITION_COUNT_MAX_AGE_SECONDS = 300.0
"""As aiokafka's `metadata_max_age_ms`: partitions added to the topic are used after at most this long."""


class BrokerUnavailable(Exception):
    """The broker did not acknowledge every event in time: nothing may be reported as accepted."""


class EventSink(Protocol):
    async def publish(self, events: Sequence[OutreachEvent]) -> None: ...


class PartitionRecords:
    """One partition's records of a round, cut into record batches no larger than the producer takes."""

    def __init__(self, max_batch_bytes: int) -> None:
        self.max_batch_bytes = max_batch_bytes
        self.batches: list[list[KafkaPublishMessage]] = [[]]
        self._size = BATCH_HEADER_BYTES

    def add(self, key: bytes, value: bytes) -> None:
        record_size = RECORD_OVERHEAD_BYTES + len(key) + len(value)
        if self._size + record_size > self.max_batch_bytes and self.batches[-1]:
            self.batches.append([])
            self._size = BATCH_HEADER_BYTES
        self.batches[-1].append(KafkaPublishMessage(value, key=key))
        self._size += record_size


@dataclass
class _Round:
    """The records gathered while the previous round was on its way; one acknowledgement for all of them."""

    acknowledged: asyncio.Future[None]
    partitions: dict[int, PartitionRecords] = field(default_factory=dict)


class KafkaEventSink:
    def __init__(
        self, broker: KafkaBroker, topic: str, timeout_seconds: float, max_batch_bytes: int = MAX_BATCH_BYTES
    ) -> None:
        self.broker = broker
        self.topic = topic
        self.publisher = broker.publisher(
            topic, batch=True, schema=OutreachEvent, description="Every accepted touch, keyed by the contact key."
        )
        self.timeout_seconds = timeout_seconds
        self.max_batch_bytes = max_batch_bytes
        self._next: _Round | None = None
        self._sending: asyncio.Task[None] | None = None
        self._partitions = 0
        self._partitions_read_at = float("-inf")

    async def publish(self, events: Sequence[OutreachEvent]) -> None:
        try:
            await asyncio.wait_for(self._send_all(events), self.timeout_seconds)
        except Exception as exc:
            raise BrokerUnavailable(type(exc).__name__) from exc

    async def _send_all(self, events: Sequence[OutreachEvent]) -> None:
        partitions = await self._partition_count()
        next_round = self._next
        if next_round is None:
            next_round = self._next = _Round(asyncio.get_running_loop().create_future())
        gathered = next_round.partitions
        serialise = OutreachEvent.__pydantic_serializer__.to_json
        for event in events:
            key = event.contact_key.encode()
            partition = partition_for(key, partitions)
            if partition not in gathered:
                gathered[partition] = PartitionRecords(self.max_batch_bytes)
            gathered[partition].add(key, serialise(event))
        if self._sending is None or self._sending.done():
            self._sending = asyncio.create_task(self._send_rounds())
        await asyncio.shield(next_round.acknowledged)

    async def _send_rounds(self) -> None:
        """Send what was gathered, wait for the acknowledgement, repeat while more arrived meanwhile."""
        while self._next is not None:
            this_round, self._next = self._next, None
            try:
                sends = [
                    await self.publisher.publish(*batch, partition=number, headers=HEADERS, no_confirm=True)
                    for number, records in this_round.partitions.items()
                    for batch in records.batches
                ]
                # FastStream's in-memory test broker delivers at once and returns no future
                await asyncio.gather(*(sent for sent in sends if sent is not None))
            except Exception as exc:  # noqa: BLE001 - every waiting request answers 503 with the reason
                this_round.acknowledged.set_exception(exc)
                this_round.acknowledged.exception()  # requests that timed out no longer look at it
            else:
                this_round.acknowledged.set_result(None)

    async def _partition_count(self) -> int:
        if time.monotonic() - self._partitions_read_at > PARTITION_COUNT_MAX_AGE_SECONDS:
            self._partitions = await self._read_partition_count()
            self._partitions_read_at = time.monotonic()
        return self._partitions

    async def _read_partition_count(self) -> int:
        [topic] = await self.broker.config.admin_client.describe_topics([self.topic])
        partitions: list[Any] = topic["partitions"]
        if topic["error_code"] or not partitions:
            raise LookupError(f"topic {self.topic} has no partitions (error code {topic['error_code']})")
        return len(partitions)
