"""Scores and alerts sent through the aiokafka producer under FastStream's broker land exactly as FastStream's own
publisher sends them (key, value, headers), and are still counted in FastStream's metrics the dashboards read."""

import asyncio
import secrets
import time

from aiokafka import AIOKafkaConsumer
from prometheus_client import REGISTRY

from services.runtime.broker import build_broker
from services.runtime.settings import ServiceSettings
from services.runtime.topics import create_topics
from services.scoring.policy.file import PolicySet
from services.scoring.processing.output_ids import score_id
from services.scoring.processing.processor import Processor
from services.scoring.state.memory_store import MemoryStore
from services.scoring.stream.outputs import (
    MAX_BATCH_BYTES,
    Output,
    ProducerSender,
    PublisherSender,
    Sender,
    alert_output,
    score_output,
)
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.unit.scoring.builders import DAY, T0, emails

Message = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]


async def outputs(topic_scores: str, topic_alerts: str) -> list[Output]:
    """Three e-mails two days apart: three scores and the alert of the third (watch)."""
    outcome, _ = await Processor(MemoryStore(expire_after=10**9), PolicySet()).process(
        emails(3, 2 * DAY), T0 + 30 * DAY
    )
    assert len(outcome.alerts) == 1
    return [
        *(score_output(topic_scores, score_id(event), score) for event, score in outcome.scored),
        *(alert_output(topic_alerts, alert) for alert in outcome.alerts),
    ]


async def read(bootstrap: str, topic: str, count: int) -> list[Message]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        seen: list[Message] = []
        deadline = time.monotonic() + 30
        while len(seen) < count and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                seen.extend((r.key, r.value, list(r.headers)) for r in records)
        return seen
    finally:
        await consumer.stop()


def published(app_name: str, topic: str) -> float:
    labels = {"app_name": app_name, "broker": "kafka", "destination": topic, "status": "success"}
    return REGISTRY.get_sample_value("faststream_published_messages_total", labels) or 0.0


async def send_through(bootstrap: str, app_name: str, sender_of: type[Sender], tag: str) -> tuple[list[Message], int]:
    settings = ServiceSettings(kafka_bootstrap_servers=bootstrap)
    scores, alerts = f"scores-{tag}", f"alerts-{tag}"
    await create_topics(bootstrap, [scores, alerts], 1)
    broker = build_broker(settings, app_name)
    sender = ProducerSender(broker, app_name) if sender_of is ProducerSender else PublisherSender(broker)
    sent = await outputs(scores, alerts)
    await broker.start()
    try:
        await sender.send_all(sent)
    finally:
        await broker.stop()
    landed = await read(bootstrap, scores, 3) + await read(bootstrap, alerts, 1)
    return landed, len(sent)


async def test_producer_sender_puts_on_the_wire_what_faststreams_publisher_does_and_is_counted_alike(
    kafka: ApacheTestBroker | EmbeddedTestBroker,
) -> None:
    run = secrets.token_hex(3)
    app_name = f"scoring-outputs-{run}"
    direct, count = await send_through(kafka.bootstrap, app_name, ProducerSender, f"direct-{run}")
    through, _ = await send_through(kafka.bootstrap, f"{app_name}-fs", PublisherSender, f"fs-{run}")

    assert count == 4
    assert direct == through
    assert [name for name, _ in direct[0][2]] == ["content-type", "correlation_id", "score_id"]
    assert direct[3][2][2] == ("ce_specversion", b"1.0")
    assert published(app_name, f"scores-direct-{run}") == 3
    assert published(app_name, f"alerts-direct-{run}") == 1
    assert published(f"{app_name}-fs", f"scores-fs-{run}") == 3


async def read_partitions(bootstrap: str, topic: str, count: int) -> dict[int, list[Message]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        seen: dict[int, list[Message]] = {}
        deadline = time.monotonic() + 30
        while sum(map(len, seen.values())) < count and time.monotonic() < deadline:
            for partition, records in (await consumer.getmany(timeout_ms=500)).items():
                seen.setdefault(partition.partition, []).extend((r.key, r.value, list(r.headers)) for r in records)
        return seen
    finally:
        await consumer.stop()


async def test_many_outputs_over_several_batches_land_on_the_partitions_and_in_the_order_kafka_would_give(
    kafka: ApacheTestBroker | EmbeddedTestBroker,
) -> None:
    """800 scores of 50 contacts, 2 KB each, on 3 partitions: more than one record batch per partition."""
    run = secrets.token_hex(3)
    count = 800
    landed = []
    for sender_of in (ProducerSender, PublisherSender):
        topic = f"scores-many-{sender_of.__name__}-{run}"
        await create_topics(kafka.bootstrap, [topic], 3)
        broker = build_broker(ServiceSettings(kafka_bootstrap_servers=kafka.bootstrap), f"many-{run}", MAX_BATCH_BYTES)
        sender: Sender = (
            ProducerSender(broker, f"many-{run}") if sender_of is ProducerSender else PublisherSender(broker)
        )
        outputs = [
            Output(topic, f"acme:c-{n % 50}".encode(), b"%06d" % n + b"x" * 2000, f"e-{n}", {"content-type": "a/b"})
            for n in range(count)
        ]
        await broker.start()
        try:
            await sender.send_all(outputs)
        finally:
            await broker.stop()
        landed.append(await read_partitions(kafka.bootstrap, topic, count))
    direct, through = landed
    assert sorted(direct) == [0, 1, 2]
    assert sum(map(len, direct.values())) == count
    assert direct == through


async def test_a_failed_send_raises_and_counts_an_error(kafka: ApacheTestBroker | EmbeddedTestBroker) -> None:
    run = secrets.token_hex(3)
    app_name = f"scoring-outputs-fail-{run}"
    broker = build_broker(ServiceSettings(kafka_bootstrap_servers=kafka.bootstrap), app_name)
    sender = ProducerSender(broker, app_name)
    await broker.start()
    try:
        too_big = Output(f"scores-fail-{run}", b"k", b"x" * 2_000_000, "c", {"content-type": "application/json"})
        try:
            await asyncio.wait_for(sender.send_all([too_big]), 30)
        except Exception as exc:  # noqa: BLE001 - which error aiokafka raises is its business; that it raises is ours
            failure = type(exc).__name__
        else:
            raise AssertionError("a message over the producer's size limit was accepted")
    finally:
        await broker.stop()
    labels = {"app_name": app_name, "broker": "kafka", "destination": f"scores-fail-{run}", "status": "error"}
    assert REGISTRY.get_sample_value("faststream_published_messages_total", labels) == 1
    assert (
        REGISTRY.get_sample_value(
            "faststream_published_messages_exceptions_total",
            {"app_name": app_name, "broker": "kafka", "destination": f"scores-fail-{run}", "exception_type": failure},
        )
        == 1
    )
