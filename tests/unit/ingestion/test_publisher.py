"""Requests in flight share record batches, and each is answered only once every batch holding its records is in.

A stand-in for aiokafka's producer hands out real record batches and plays its sender: it takes a batch (which
closes it) and acknowledges or fails it when the test says so. Real Kafka: tests/integration/test_ingestion_publishing.
"""

import asyncio
from datetime import UTC, datetime

import pytest
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch
from faststream.kafka import KafkaBroker

from schemas import Channel, Direction, Kind, OutreachEvent, Source
from services.ingestion import publisher
from services.ingestion.partitioning import partition_for
from services.ingestion.publisher import BrokerUnavailable, KafkaEventSink

PARTITIONS = 3


class Producer:
    def __init__(self, batch_bytes: int = 1_000_000) -> None:
        self.batch_bytes = batch_bytes
        self.queued: list[tuple[int, BatchBuilder, asyncio.Future[None]]] = []

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(PARTITIONS))

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(self.batch_bytes, 0)

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> asyncio.Future[None]:
        delivered = asyncio.get_running_loop().create_future()
        self.queued.append((partition, batch, delivered))
        return delivered

    def take(self) -> list[tuple[int, list[bytes], asyncio.Future[None]]]:
        """What the sender sends now: every queued batch, closed, with the keys of its records."""
        taken = [(partition, keys(batch._build()), delivered) for partition, batch, delivered in self.queued]
        self.queued.clear()
        return taken


def keys(buffer: bytes) -> list[bytes]:
    return [record.key or b"" for record in DefaultRecordBatch(bytearray(buffer))]


@pytest.fixture
def producer(monkeypatch: pytest.MonkeyPatch) -> Producer:
    fake = Producer()
    monkeypatch.setattr(publisher, "connected_producer", lambda broker: fake)
    return fake


def sink() -> KafkaEventSink:
    return KafkaEventSink(KafkaBroker("localhost:9092", logger=None), "outreach.events", timeout_seconds=5)


def touches(contacts: list[str]) -> list[OutreachEvent]:
    at = datetime(2026, 11, 2, tzinfo=UTC)
    return [
        OutreachEvent(
            event_id=f"e-{n}",
            tenant="acme",
            source=Source.GENERIC,
            occurred_at=at,
            received_at=at,
            sender_id="rep-1",
            contact_id=contact,
            channel=Channel.EMAIL,
            direction=Direction.OUTBOUND,
            kind=Kind.MESSAGE,
        )
        for n, contact in enumerate(contacts)
    ]


async def settle() -> None:
    """Let every task that can run do so (each batch's hand-over waits for the previous one's)."""
    for _ in range(50):
        await asyncio.sleep(0)


async def test_requests_in_flight_share_a_batch_per_partition_and_wait_for_its_acknowledgement(
    producer: Producer,
) -> None:
    events = sink()
    first = asyncio.create_task(events.publish(touches(["c1", "c2", "c3", "c4"])))
    second = asyncio.create_task(events.publish(touches(["c2", "c5"])))
    await settle()
    sent = producer.take()
    assert not first.done()
    assert not second.done()

    batches = {partition: batch_keys for partition, batch_keys, _ in sent}
    assert len(sent) == len(batches), "one batch per partition for both requests"
    for partition, batch_keys in batches.items():
        assert all(partition_for(key, PARTITIONS) == partition for key in batch_keys)
    everything = sorted(key for batch_keys in batches.values() for key in batch_keys)
    assert everything == sorted(f"acme:{c}".encode() for c in ["c1", "c2", "c3", "c4", "c2", "c5"])

    for _, _, delivered in sent[:-1]:
        delivered.set_result(None)
    await settle()
    assert not (first.done() and second.done()), "answered before every batch was acknowledged"
    sent[-1][2].set_result(None)
    await asyncio.gather(first, second)


async def test_records_after_the_sender_took_a_batch_go_into_the_next_one(producer: Producer) -> None:
    events = sink()
    first = asyncio.create_task(events.publish(touches(["c1"])))
    await settle()
    [(partition, batch_keys, delivered)] = producer.take()
    later = asyncio.create_task(events.publish(touches(["c1"])))
    await settle()
    [(again, later_keys, later_delivered)] = producer.take()
    assert (again, batch_keys, later_keys) == (partition, [b"acme:c1"], [b"acme:c1"])
    delivered.set_result(None)
    await first
    assert not later.done()
    later_delivered.set_result(None)
    await later


async def test_a_full_batch_is_followed_by_another_on_the_same_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    small = Producer(batch_bytes=2_000)
    monkeypatch.setattr(publisher, "connected_producer", lambda broker: small)
    request = asyncio.create_task(sink().publish(touches(["same"] * 20)))
    await settle()
    sent = small.take()
    assert len(sent) > 1
    assert {partition for partition, _, _ in sent} == {partition_for(b"acme:same", PARTITIONS)}
    assert sum(len(batch_keys) for _, batch_keys, _ in sent) == 20
    for _, _, delivered in sent:
        delivered.set_result(None)
    await request


async def test_a_failed_batch_fails_its_requests_and_the_next_request_gets_a_new_batch(producer: Producer) -> None:
    events = sink()
    failing = asyncio.create_task(events.publish(touches(["c1"])))
    await settle()
    [(_, _, delivered)] = producer.take()
    delivered.set_exception(ConnectionError("broker gone"))
    with pytest.raises(BrokerUnavailable, match="ConnectionError"):
        await failing

    retry = asyncio.create_task(events.publish(touches(["c1"])))
    await settle()
    [(_, batch_keys, delivered)] = producer.take()
    assert batch_keys == [b"acme:c1"]
    delivered.set_result(None)
    await retry


async def test_no_acknowledgement_in_time_is_broker_unavailable(producer: Producer) -> None:
    events = KafkaEventSink(KafkaBroker("localhost:9092", logger=None), "outreach.events", timeout_seconds=0.05)
    with pytest.raises(BrokerUnavailable, match="TimeoutError"):
        await events.publish(touches(["c1"]))
