"""Consumer lag per assigned partition, read from aiokafka just before each scrape.

Lag is the partition's high-water mark minus the consumer's position: records on the broker that this
consumer has not fetched yet. Both numbers come from the consumer behind each FastStream subscriber, so the
gauge needs no extra connection to Kafka and shows exactly the partitions this replica owns.
"""

import asyncio
from collections.abc import Iterator
from typing import Any
from weakref import WeakKeyDictionary

from aiokafka.errors import IllegalStateError
from faststream.kafka import KafkaBroker
from prometheus_client import Gauge

LAG = Gauge(
    "rapport_consumer_lag",
    "Records not yet fetched: high-water mark minus position, per assigned partition",
    ["service", "topic", "partition"],
)

POSITION_TIMEOUT_SECONDS = 1.0
"""A partition whose position is being reset (rebalance, first fetch) is skipped rather than holding the scrape."""


def consumers(broker: KafkaBroker) -> Iterator[Any]:
    """The started aiokafka consumers behind the broker's subscribers (a concurrent subscriber has several)."""
    for subscriber in broker.subscribers:
        group = getattr(subscriber, "consumer_subgroup", None) or [getattr(subscriber, "consumer", None)]
        yield from (consumer for consumer in group if consumer is not None)


async def partition_lag(consumer: Any, partition: Any) -> int | None:
    """None while aiokafka knows no high-water mark or position for the partition yet."""
    try:
        highwater = consumer.highwater(partition)
        if highwater is None:
            return None
        position = await asyncio.wait_for(consumer.position(partition), POSITION_TIMEOUT_SECONDS)
    except (IllegalStateError, AssertionError, TimeoutError):
        return None
    return max(int(highwater) - int(position), 0)


class ConsumerLag:
    """Keeps the lag gauge equal to what the watched brokers' consumers see, with no stale partitions left over."""

    def __init__(self, gauge: Gauge = LAG) -> None:
        self.gauge = gauge
        self.brokers: WeakKeyDictionary[KafkaBroker, str] = WeakKeyDictionary()

    def watch(self, broker: KafkaBroker, service: str) -> None:
        self.brokers[broker] = service

    async def refresh(self) -> None:
        readings: dict[tuple[str, str, str], int] = {}
        for broker, service in list(self.brokers.items()):
            for consumer in consumers(broker):
                for partition in consumer.assignment():
                    lag = await partition_lag(consumer, partition)
                    if lag is not None:
                        readings[(service, partition.topic, str(partition.partition))] = lag
        self.gauge.clear()
        for (service, topic, partition_id), lag in readings.items():
            self.gauge.labels(service=service, topic=topic, partition=partition_id).set(lag)


CONSUMER_LAG = ConsumerLag()
"""The process's one lag reader: every broker built by `build_broker` registers here, `/metrics` refreshes it."""
