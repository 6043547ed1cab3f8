"""The scoring service on Redis: a store outage mid-stream stops commits and readiness, and loses nothing."""

import asyncio
import json
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from schemas import Channel, Direction, Kind, OutreachEvent, PairScore, Source
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.redis_server import RedisServer, running_redis
from tests.harness.stack import Stack, own_topics, read_topic, running_stack

CONTACTS = 6
SENDERS = 2


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def events(tenant: str, phase: int, per_pair: int) -> list[OutreachEvent]:
    start = datetime.now(UTC) - timedelta(days=40) + timedelta(days=10 * phase)
    return [
        OutreachEvent(
            event_id=f"p{phase}-{contact}-{sender}-{n}",
            tenant=tenant,
            source=Source.GENERIC,
            occurred_at=start + timedelta(days=2 * n, hours=sender),
            received_at=datetime.now(UTC),
            sender_id=f"rep-{sender}",
            contact_id=f"c-{contact}",
            channel=Channel.EMAIL,
            direction=Direction.INBOUND if n == per_pair - 1 and contact % 2 else Direction.OUTBOUND,
            kind=Kind.REPLY if n == per_pair - 1 and contact % 2 else Kind.MESSAGE,
        )
        for contact in range(CONTACTS)
        for sender in range(SENDERS)
        for n in range(per_pair)
    ]


async def produce(bootstrap: str, topic: str, batch: list[OutreachEvent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for event in batch:
            await producer.send_and_wait(topic, event.model_dump_json().encode(), key=event.contact_key.encode())
    finally:
        await producer.stop()


async def committed(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return sum(meta.offset for meta in offsets.values() if meta.offset > 0)
    finally:
        await admin.close()


def metric(stack: Stack, name: str, labels: str) -> float:
    text = httpx.get(f"{stack.url('scoring')}/metrics", timeout=10).text
    line = next((line for line in text.splitlines() if line.startswith(f"{name}{{{labels}}}")), None)
    return 0.0 if line is None else float(line.rsplit(" ", 1)[1])


def until(condition: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def ready(stack: Stack) -> int:
    return httpx.get(f"{stack.url('scoring')}/readyz", timeout=10).status_code


@pytest.mark.slow
def test_redis_stopping_mid_stream_blocks_commits_and_readiness_and_loses_nothing(
    kafka: ApacheTestBroker | EmbeddedTestBroker, redis_server: RedisServer, tmp_path: Path
) -> None:
    run = secrets.token_hex(3)
    topics = own_topics(f"outage-{run}")
    group = topics["SCORING_GROUP_ID"]
    env = topics | {
        "STATE_STORE_URL": redis_server.url,
        "STATE_STORE_TIMEOUT_SECONDS": "1",
        "SCORING_RETRY_SECONDS": "0.2",
    }
    tenant = f"t-{run}"
    phases = [events(tenant, phase, per_pair=4) for phase in range(3)]
    total = sum(len(batch) for batch in phases)
    with running_stack(kafka.bootstrap, tmp_path, names=("scoring",), **env) as stack:
        asyncio.run(produce(kafka.bootstrap, topics["TOPIC_EVENTS"], phases[0]))
        until(lambda: asyncio.run(committed(kafka.bootstrap, group)) == len(phases[0]), "the first phase")

        redis_server.stop()
        until(lambda: ready(stack) == 503, "/readyz to fail")
        reason = httpx.get(f"{stack.url('scoring')}/readyz", timeout=10).json()["reason"]
        assert "state store unavailable" in reason
        asyncio.run(produce(kafka.bootstrap, topics["TOPIC_EVENTS"], phases[1]))
        until(
            lambda: metric(stack, "rapport_scoring_store_operations_total", 'operation="load",outcome="error"') > 0,
            "a failed load",
        )
        assert asyncio.run(committed(kafka.bootstrap, group)) == len(phases[0]), "nothing committed while down"

        redis_server.start()
        until(lambda: ready(stack) == 200, "/readyz to recover")
        asyncio.run(produce(kafka.bootstrap, topics["TOPIC_EVENTS"], phases[2]))
        until(lambda: asyncio.run(committed(kafka.bootstrap, group)) == total, "every phase to be committed")

        for contact in range(CONTACTS):
            for sender in range(SENDERS):
                summary = httpx.get(
                    f"{stack.url('scoring')}/v1/pairs/{tenant}/rep-{sender}/c-{contact}", headers=stack.auth, timeout=10
                ).json()
                assert summary["touches"] == 12, "every event counted exactly once"

    records = asyncio.run(read_topic(kafka.bootstrap, topics["TOPIC_SCORES"], lambda rs: len(rs) >= total))
    scores: dict[str, set[str]] = {}
    for _, value, _ in records:
        score = PairScore.model_validate_json(value)
        scores.setdefault(score.event_id, set()).add(json.dumps(json.loads(value), sort_keys=True))
    assert set(scores) == {event.event_id for batch in phases for event in batch}
    assert all(len(versions) == 1 for versions in scores.values()), "a retried batch repeats itself exactly"
