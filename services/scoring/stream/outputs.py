"""How scores and alerts reach Kafka: one message shape, two senders with the same wire result.

`ProducerSender` is the service's: it appends each message to a record batch per partition of the aiokafka
producer underneath FastStream's broker, placed as Kafka's default partitioner would place its key, and sends the
batches. FastStream's publisher spends ~58 µs of CPU a message (command objects, middleware chain, codec), aiokafka's
`send` ~15 µs, appending to a batch ~3 µs (measured, 30 000 messages of 400 bytes on Apache Kafka); at one score
per event and an alert for about a fifth of them, FastStream's path was a sixth of the scorer's time. FastStream's
keyed `publish_batch`, which ingestion uses, cannot carry a header per message. It still counts what it sends in
FastStream's own `faststream_published_messages_*` series (same names and labels, app_name = the service), which
the dashboards read. `PublisherSender` goes through FastStream's publisher: the in-memory test broker only sees
that path, so the stream's unit tests use it.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.producer.message_accumulator import BatchBuilder
from faststream.kafka import KafkaBroker
from faststream.prometheus.container import MetricsContainer
from faststream.prometheus.manager import MetricsManager
from faststream.prometheus.types import PublishingStatus
from prometheus_client import REGISTRY

from schemas import Alert, PairScore, contact_key
from services.runtime.partitioning import partition_for

MESSAGING_SYSTEM = "kafka"
MAX_BATCH_BYTES = 262_144
"""Record batch size of scoring's producer: a batch cycle's scores for one partition (500 events, ~500 bytes a
score, a few partitions) fit in one or two; aiokafka's default (16 KiB) took a dozen, each waiting for the last."""


@dataclass(frozen=True, slots=True)
class Output:
    """One message as it goes on the wire. `correlation_id` travels as a header, as FastStream sends it."""

    topic: str
    key: bytes
    value: bytes
    correlation_id: str
    headers: dict[str, str]


def score_output(topic: str, id_: str, score: PairScore) -> Output:
    return Output(
        topic,
        contact_key(score.tenant, score.contact_id).encode(),
        score.model_dump_json().encode(),
        score.event_id,
        {"content-type": "application/json", "score_id": id_},
    )


def alert_output(topic: str, alert: Alert) -> Output:
    """Keyed by contact, with CloudEvents binary-mode attributes, so other stacks can route alerts unparsed."""
    return Output(
        topic,
        contact_key(alert.tenant, alert.contact_id).encode(),
        alert.model_dump_json().encode(),
        alert.alert_id,
        {
            "content-type": "application/json",
            "ce_specversion": "1.0",
            "ce_id": alert.alert_id,
            "ce_type": f"io.rapportguard.alert.{alert.level}",
            "ce_source": "rapport-guard/scoring",
            "ce_time": alert.emitted_at.isoformat().replace("+00:00", "Z"),
            "ce_subject": f"{alert.tenant}:{alert.contact_id}",
            "ce_historical": "true" if alert.historical else "false",
        },
    )


class Sender(Protocol):
    async def send_all(self, outputs: Sequence[Output]) -> None:
        """Send every output, then return once the broker acknowledged them all (or raise the first failure)."""


class PublisherSender:
    def __init__(self, broker: KafkaBroker) -> None:
        self.broker = broker

    async def send_all(self, outputs: Sequence[Output]) -> None:
        futures = [
            await self.broker.publish(
                output.value,
                output.topic,
                key=output.key,
                headers=output.headers,
                correlation_id=output.correlation_id,
                no_confirm=True,
            )
            for output in outputs
        ]
        await asyncio.gather(*(future for future in futures if future is not None))


class ProducerSender:
    def __init__(self, broker: KafkaBroker, app_name: str) -> None:
        self.broker = broker
        self.metrics = MetricsManager(MetricsContainer(REGISTRY, custom_label_names=()), app_name=app_name)

    def producer(self) -> AIOKafkaProducer:
        """The broker's own producer (connected, configured and secured with it); a FastStream upgrade that moves
        it fails here, loudly, and in `tests/integration/test_scoring_outputs.py`."""
        producer: Any = getattr(getattr(self.broker.config.producer, "_producer", None), "producer", None)
        if not isinstance(producer, AIOKafkaProducer):
            raise TypeError("FastStream's broker no longer exposes its aiokafka producer where scoring expects it")
        return producer

    async def send_all(self, outputs: Sequence[Output]) -> None:
        producer = self.producer()
        started = time.perf_counter()
        sent: Counter[str] = Counter(output.topic for output in outputs)
        futures: list[asyncio.Future[Any]] = []
        try:
            partitions = {topic: len(await producer.partitions_for(topic)) for topic in sent}
            open_batches: dict[tuple[str, int], BatchBuilder] = {}
            for output in outputs:
                place = (output.topic, partition_for(output.key, partitions[output.topic]))
                batch = open_batches.get(place)
                if batch is None:
                    batch = open_batches[place] = producer.create_batch()
                if batch.append(key=output.key, value=output.value, timestamp=None, headers=_headers(output)) is None:
                    futures.append(await _send(producer, batch, place))
                    batch = open_batches[place] = producer.create_batch()
                    batch.append(key=output.key, value=output.value, timestamp=None, headers=_headers(output))
            for place, batch in open_batches.items():
                futures.append(await _send(producer, batch, place))
            await asyncio.gather(*futures)
        except Exception as exc:
            for future in futures:  # batches already on their way: their outcome no longer matters to anyone
                future.add_done_callback(_outcome_read)
            for topic in sent:
                self.metrics.add_published_message_exception(MESSAGING_SYSTEM, topic, type(exc).__name__)
            self._count(sent, PublishingStatus.error, started)
            raise
        self._count(sent, PublishingStatus.success, started)

    def _count(self, sent: Counter[str], status: PublishingStatus, started: float) -> None:
        """Per topic, once per call, as FastStream counts a batch publish: every message, one duration."""
        duration = time.perf_counter() - started
        for topic, count in sent.items():
            self.metrics.add_published_message(MESSAGING_SYSTEM, topic, status, amount=count)
            self.metrics.observe_published_message_duration(duration, MESSAGING_SYSTEM, topic)


def _headers(output: Output) -> list[tuple[str, bytes]]:
    """As FastStream writes them for a bytes body: content-type first, then its correlation id, then the message's
    own (which override either)."""
    merged = {"content-type": "", **({"correlation_id": output.correlation_id} | output.headers)}
    return [(name, value.encode()) for name, value in merged.items()]


async def _send(producer: AIOKafkaProducer, batch: BatchBuilder, place: tuple[str, int]) -> asyncio.Future[Any]:
    batch.close()
    topic, partition = place
    future: asyncio.Future[Any] = await producer.send_batch(batch, topic, partition=partition)
    return future


def _outcome_read(future: asyncio.Future[Any]) -> None:
    """Marks a batch's failure as seen, so asyncio does not log it as never retrieved once the send is given up."""
    if not future.cancelled():
        future.exception()
