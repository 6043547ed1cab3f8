"""The only place ingestion talks to Kafka: publish events and wait for the broker's acknowledgement.

One record per event, keyed by its contact key, but not one FastStream publish per record: that cost ~30 µs each
and was most of a 100-event request. Instead the events of every request in flight are gathered per partition
while the previous send is being acknowledged, and each partition's records go out as one FastStream
`publish_batch` (a Kafka record batch with a key per record), the next round only after the broker acknowledged
the last. That is what aiokafka's own accumulator does for single sends, at a fraction of the cost per record;
sending each request's batch on its own instead would queue the requests one behind the other, since aiokafka
admits one pending batch per partition.
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from faststream.kafka import KafkaBroker, KafkaPublishMessage

from schemas import OutreachEvent
from services.ingestion.partitioning import partition_for

HEADERS = {"content-type": "application/json"}
MAX_BATCH_BYTES = 262_144
"""Per partition and round: the events of all requests in flight (a few hundred) fit in one record batch."""
BATCH_HEADER_BYTES = 61
RECORD_OVERHEAD_BYTES = 160
"""More than a record's framing and headers (varints, content-type, FastStream's correlation id) can take."""
PARTITION_COUNT_MAX_AGE_SECONDS = 300.0
"""As aiokafka's `metadata_max_age_ms`: partitions added to the topic are used after at most this long."""


class BrokerUnavailable(Exception):
    """The broker did not acknowledge every event in time: nothing may be reported as accepted."""


class EventSink(Protocol):
    async def publish(self, events: Sequence[OutreachEvent]) -> None: ...


@dataclass
class _Round:
    """The records gathered while the previous round was on its way; one acknowledgement for all of them."""

    acknowledged: asyncio.Future[None]
    records: dict[int, list[tuple[bytes, bytes]]] = field(default_factory=dict)
    """(key, value) per partition, in the order the events came."""


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
        records = next_round.records
        serialise = OutreachEvent.__pydantic_serializer__.to_json
        for event in events:
            key = event.contact_key.encode()
            records.setdefault(partition_for(key, partitions), []).append((key, serialise(event)))
        if self._sending is None or self._sending.done():
            self._sending = asyncio.create_task(self._send_rounds())
        await asyncio.shield(next_round.acknowledged)

    async def _send_rounds(self) -> None:
        """Send what was gathered, wait for the acknowledgement, repeat while more arrived meanwhile."""
        while self._next is not None:
            this_round, self._next = self._next, None
            try:
                sends = [
                    await self.publisher.publish(*chunk, partition=partition, headers=HEADERS, no_confirm=True)
                    for partition, records in this_round.records.items()
                    for chunk in self._chunks(records)
                ]
                await asyncio.gather(*sends)
            except Exception as exc:  # noqa: BLE001 - every waiting request answers 503 with the reason
                this_round.acknowledged.set_exception(exc)
                this_round.acknowledged.exception()  # requests that timed out no longer look at it
            else:
                this_round.acknowledged.set_result(None)

    def _chunks(self, records: list[tuple[bytes, bytes]]) -> list[list[KafkaPublishMessage]]:
        """Record batches no larger than the producer's batch size, which aiokafka would refuse."""
        chunks: list[list[KafkaPublishMessage]] = [[]]
        size = BATCH_HEADER_BYTES
        for key, value in records:
            record_size = RECORD_OVERHEAD_BYTES + len(key) + len(value)
            if chunks[-1] and size + record_size > self.max_batch_bytes:
                chunks.append([])
                size = BATCH_HEADER_BYTES
            chunks[-1].append(KafkaPublishMessage(value, key=key))
            size += record_size
        return chunks

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
