"""Consumer lag per assigned partition, read from aiokafka just before each scrape.

Lag is the partition's end offset (high-water mark) minus the consumer's position: records on the broker that
this consumer has not handed to its handler yet. Both come from the consumer behind each FastStream subscriber,
so the gauge shows exactly the partitions this replica owns. The end offsets are asked of the broker on each
scrape: the high-water mark aiokafka remembers from its last fetch stops moving while a stuck handler leaves
records in the fetch buffer, which is exactly when lag matters. It is only the fallback when the broker does
not answer in time.
"""

import asyncio
import logging
from collections.abc import Iterator
from typing import Any
from weakref import WeakKeyDictionary

from aiokafka.errors import IllegalStateError, KafkaError
from faststream.kafka import KafkaBroker
from prometheus_client import Gauge

log = logging.getLogger(__name__)

LAG = Gauge(
    "rapport_consumer_lag",
    "Records not yet consumed: end offset minus position, per assigned partition",
    ["service", "topic", "partition"],
)

READ_TIMEOUT_SECONDS = 2.0
"""A scrape waits at most about twice this per consumer (end offsets, then all positions at once); a partition
being reassigned is skipped rather than waited for."""


def consumers(broker: KafkaBroker) -> Iterator[Any]:
    """The started aiokafka consumers behind the broker's subscribers (a concurrent subscriber has several)."""
    for subscriber in broker.subscribers:
        group = getattr(subscriber, "consumer_subgroup", None) or [getattr(subscriber, "consumer", None)]
        yield from (consumer for consumer in group if consumer is not None)


async def end_offsets(consumer: Any, partitions: list[Any]) -> dict[Any, int | None]:
    """The broker's end offsets, or the last high-water marks aiokafka saw when the broker does not answer."""
    try:
        answer: dict[Any, int] = await asyncio.wait_for(consumer.end_offsets(partitions), READ_TIMEOUT_SECONDS)
        return dict(answer)
    except (KafkaError, TimeoutError) as exc:
        log.debug("end offsets unavailable, using last known high-water marks: %s", type(exc).__name__)
        return {partition: consumer.highwater(partition) for partition in partitions}


async def position(consumer: Any, partition: Any) -> int | None:
    """None while the partition has no position yet (just assigned, being reset) or was revoked meanwhile."""
    try:
        return int(await asyncio.wait_for(consumer.position(partition), READ_TIMEOUT_SECONDS))
    except (IllegalStateError, TimeoutError):
        return None


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
                partitions = list(consumer.assignment())
                if not partitions:
                    continue
                ends = await end_offsets(consumer, partitions)
                positions = await asyncio.gather(*(position(consumer, partition) for partition in partitions))
                for partition, at in zip(partitions, positions, strict=True):
                    end = ends.get(partition)
                    if end is not None and at is not None:
                        readings[(service, partition.topic, str(partition.partition))] = max(end - at, 0)
        self.gauge.clear()
        for (service, topic, partition_id), lag in readings.items():
            self.gauge.labels(service=service, topic=topic, partition=partition_id).set(lag)


CONSUMER_LAG = ConsumerLag()
"""The process's one lag reader: every broker built by `build_broker` registers here, `/metrics` refreshes it."""
