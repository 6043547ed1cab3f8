"""Requests in flight share a round of record batches, and each is answered only once its round is acknowledged.

FastStream's batch publisher is replaced by a recorder that hands back the futures aiokafka would, so the test
decides when the broker acknowledges. Real Kafka: tests/integration/test_ingestion_publishing.py.
"""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, KafkaPublishMessage

from schemas import OutreachEvent
from services.ingestion.publisher import BrokerUnavailable, KafkaEventSink
from services.runtime.partitioning import partition_for
from tests.harness.events import event

PARTITIONS = 3
AT = datetime(2026, 11, 2, tzinfo=UTC)


class Broker:
    """What the sink's batch publisher was asked to send, and the acknowledgement each batch waits for."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, list[bytes], asyncio.Future[None]]] = []
        self.event_ids: dict[int, list[str]] = {}

    async def publish(self, *records: KafkaPublishMessage, partition: int, **_: Any) -> asyncio.Future[None]:
        acknowledged = asyncio.get_running_loop().create_future()
        self.sent.append((partition, [record.key or b"" for record in records], acknowledged))
        for record in records:
            event = OutreachEvent.model_validate_json(record.body)
            self.event_ids.setdefault(partition, []).append(event.event_id)
        return acknowledged

    def take(self) -> list[tuple[int, list[bytes], asyncio.Future[None]]]:
        taken, self.sent = self.sent, []
        return taken


def sink(broker: Broker, timeout_seconds: float = 5, max_batch_bytes: int = 262_144) -> KafkaEventSink:
    events = KafkaEventSink(
        KafkaBroker("localhost:9092", logger=None), "outreach.events", timeout_seconds, max_batch_bytes
    )
    events.publisher.publish = broker.publish  # type: ignore[method-assign,assignment]

    async def partitions() -> int:
        return PARTITIONS

    events._read_partition_count = partitions  # type: ignore[method-assign]
    return events


def touches(contacts: list[str]) -> list[OutreachEvent]:
    return [event(n, AT, contact=contact) for n, contact in enumerate(contacts)]


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_requests_gathered_meanwhile_go_in_the_next_round_and_wait_for_all_of_it() -> None:
    broker = Broker()
    events = sink(broker)
    first = asyncio.create_task(events.publish(touches(["c1"])))
    await settle()
    [(_, _, first_round)] = broker.take()

    second = asyncio.create_task(events.publish(touches(["c1", "c2", "c3", "c4"])))
    third = asyncio.create_task(events.publish(touches(["c2", "c5"])))
    await settle()
    assert broker.take() == [], "a round went out before the previous one was acknowledged"
    first_round.set_result(None)
    await first

    await settle()
    next_round = broker.take()
    batches = {partition: keys for partition, keys, _ in next_round}
    assert len(next_round) == len(batches), "one batch per partition for both requests"
    for partition, keys in batches.items():
        assert all(partition_for(key, PARTITIONS) == partition for key in keys)
    assert sorted(key for keys in batches.values() for key in keys) == sorted(
        f"acme:{contact}".encode() for contact in ["c1", "c2", "c3", "c4", "c2", "c5"]
    )
    for _, _, acknowledged in next_round[:-1]:
        acknowledged.set_result(None)
    await settle()
    assert not second.done()
    assert not third.done()
    next_round[-1][2].set_result(None)
    await asyncio.gather(second, third)


async def test_a_contacts_records_keep_their_order() -> None:
    broker = Broker()
    request = asyncio.create_task(sink(broker).publish(touches(["same", "other", "same", "same"])))
    await settle()
    same = partition_for(b"acme:same", PARTITIONS)
    assert [event_id for event_id in broker.event_ids[same] if event_id != "e-1"] == ["e-0", "e-2", "e-3"]
    for _, _, acknowledged in broker.take():
        acknowledged.set_result(None)
    await request


async def test_a_partitions_records_over_the_batch_size_go_in_several_batches() -> None:
    broker = Broker()
    request = asyncio.create_task(sink(broker, max_batch_bytes=2_000).publish(touches(["same"] * 20)))
    await settle()
    sent = broker.take()
    assert len(sent) > 1
    assert {partition for partition, _, _ in sent} == {partition_for(b"acme:same", PARTITIONS)}
    assert sum(len(keys) for _, keys, _ in sent) == 20
    for _, _, acknowledged in sent:
        acknowledged.set_result(None)
    await request


async def test_a_failed_round_fails_its_requests_and_the_next_request_starts_a_new_one() -> None:
    broker = Broker()
    events = sink(broker)
    failing = asyncio.create_task(events.publish(touches(["c1"])))
    await settle()
    [(_, _, acknowledged)] = broker.take()
    acknowledged.set_exception(ConnectionError("broker gone"))
    with pytest.raises(BrokerUnavailable, match="ConnectionError"):
        await failing

    retry = asyncio.create_task(events.publish(touches(["c1"])))
    await settle()
    [(_, keys, acknowledged)] = broker.take()
    assert keys == [b"acme:c1"]
    acknowledged.set_result(None)
    await retry


async def test_no_acknowledgement_in_time_is_broker_unavailable() -> None:
    with pytest.raises(BrokerUnavailable, match="TimeoutError"):
        await sink(Broker(), timeout_seconds=0.05).publish(touches(["c1"]))
