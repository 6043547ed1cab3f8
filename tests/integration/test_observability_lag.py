"""Consumer lag read from a real aiokafka consumer behind a FastStream subscriber, against a real broker."""

import asyncio
import secrets
import time

from faststream.kafka import KafkaMessage
from prometheus_client import CollectorRegistry, Gauge

from services.runtime.broker import build_broker
from services.runtime.consumer_lag import ConsumerLag
from services.runtime.settings import ServiceSettings
from services.runtime.topics import create_topics
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker


async def lag_of(lag: ConsumerLag, registry: CollectorRegistry, until: float, wanted: float) -> float:
    """Refresh until the topic's total lag is `wanted` (or the bounded wait ends); return the last reading."""
    total = -1.0
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        await lag.refresh()
        total = sum(
            sample.value
            for family in registry.collect()
            for sample in family.samples
            if sample.name == "lag_under_test"
        )
        if total == wanted:
            break
        await asyncio.sleep(0.2)
    return total


async def test_lag_counts_records_the_handler_has_not_reached(kafka: ApacheTestBroker | EmbeddedTestBroker) -> None:
    topic = f"lag-test-{secrets.token_hex(4)}"
    await create_topics(kafka.bootstrap, [topic], partitions=1)
    registry = CollectorRegistry()
    lag = ConsumerLag(Gauge("lag_under_test", "lag", ["service", "topic", "partition"], registry=registry))
    broker = build_broker(ServiceSettings(kafka_bootstrap_servers=kafka.bootstrap), "lag-test")
    lag.watch(broker, "lag-test")
    release = asyncio.Event()
    handled: list[bytes] = []

    @broker.subscriber(topic, group_id=f"g-{topic}", auto_offset_reset="earliest")
    async def slow_handler(msg: KafkaMessage) -> None:
        handled.append(msg.body)
        await release.wait()

    await broker.start()
    try:
        for n in range(10):
            await broker.publish(f"m{n}".encode(), topic)
        assert await lag_of(lag, registry, 30, 9) == 9  # the first record is being handled; nine wait behind it
        release.set()
        assert await lag_of(lag, registry, 30, 0) == 0
        assert len(handled) == 10
    finally:
        release.set()
        await broker.stop()
