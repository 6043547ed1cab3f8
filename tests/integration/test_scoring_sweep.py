"""Alerts follow the clock through real processes: a pursuit that went quiet is resolved by the sweep, once,
and a restart neither loses nor repeats it."""

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from schemas import Alert, AlertLevel
from services.devstack.ports import free_port
from services.devstack.processes import ServiceProcess
from services.runtime.partitioning import partition_for
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.redis_server import RedisServer, running_redis
from tests.harness.stack import own_topics, read_topic, running_stack
from tests.integration.test_scoring_scenarios import NOW, post, tenant, touch


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def resolved_after(bootstrap: str, topic: str, seconds: float) -> list[Alert]:
    records = asyncio.run(read_topic(bootstrap, topic, lambda found: False, seconds))
    alerts = [Alert.model_validate_json(value) for _, value, _ in records]
    return [alert for alert in alerts if alert.level is AlertLevel.RESOLVED]


@pytest.mark.slow
def test_a_quiet_pursuit_is_resolved_by_the_clock_once_across_a_restart(
    kafka: ApacheTestBroker | EmbeddedTestBroker, redis_server: RedisServer, tmp_path: Path
) -> None:
    name = tenant()
    topics = own_topics(name)
    env = topics | {"STATE_STORE_URL": f"{redis_server.url}/15", "SCORING_SWEEP_SECONDS": "1"}
    with running_stack(kafka.bootstrap, tmp_path, names=("ingestion", "scoring"), **env) as stack:
        start = NOW - timedelta(days=16)
        post(stack, [touch(f"e{n}", name, start + timedelta(days=n), "rep-1", "c") for n in range(8)])
        records = asyncio.run(
            read_topic(
                kafka.bootstrap,
                topics["TOPIC_ALERTS"],
                lambda found: any(b'"resolved"' in value for _, value, _ in found),
                60,
            )
        )
        alerts = [Alert.model_validate_json(value) for _, value, _ in records]
        rises = [alert for alert in alerts if alert.level is not AlertLevel.RESOLVED]
        assert rises
        assert all(alert.historical for alert in rises), "the pursuit ended nine days ago: on record, not news"
        [resolved] = [alert for alert in alerts if alert.level is AlertLevel.RESOLVED]
        assert resolved.event_id.startswith("sweep:")
        assert resolved.reasons[0].rule == "cool_down_passed"
        time.sleep(1)
        scoring = stack.processes["scoring"]
        scoring.kill()
        scoring.start()
        scoring.wait_ready()
        assert len(resolved_after(kafka.bootstrap, topics["TOPIC_ALERTS"], 5)) == 1, "not announced again"


def counted(url: str, sample: str) -> float:
    """A counter's value on one replica's /metrics (0 before its first increment)."""
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


@pytest.mark.slow
def test_two_replicas_on_one_redis_announce_each_fall_once_each_sweeping_its_own_partitions(
    kafka: ApacheTestBroker | EmbeddedTestBroker, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Both replicas see every due contact in Redis; the one that scores the contact's partition sweeps it."""
    name = tenant()
    topics = own_topics(name)
    env = topics | {"STATE_STORE_URL": f"{redis_server.url}/14", "SCORING_SWEEP_SECONDS": "1"}
    by_partition = [
        [f"c{n}" for n in range(100) if partition_for(f"{name}:c{n}".encode(), 3) == partition][:2]
        for partition in range(3)
    ]
    contacts = [contact for two in by_partition for contact in two]
    with running_stack(kafka.bootstrap, tmp_path, names=("ingestion", "scoring"), **env) as stack:
        first = stack.processes["scoring"]
        second = ServiceProcess("scoring", free_port(), first.env, tmp_path / "scoring-2.log")
        second.start()
        try:
            second.wait_ready()
            start = NOW - timedelta(days=16)
            for contact in contacts:
                post(
                    stack,
                    [touch(f"{contact}-{n}", name, start + timedelta(days=n), "rep-1", contact) for n in range(8)],
                )
            asyncio.run(
                read_topic(
                    kafka.bootstrap,
                    topics["TOPIC_ALERTS"],
                    lambda found: sum(b'"resolved"' in value for _, value, _ in found) >= len(contacts),
                    60,
                )
            )
            time.sleep(3)  # a few more sweeps by both replicas
            resolved = resolved_after(kafka.bootstrap, topics["TOPIC_ALERTS"], 2)
            assert sorted(alert.contact_id for alert in resolved) == sorted(contacts), "each fall once"
            replicas = (first.url, second.url)
            swept = [counted(url, 'rapport_scoring_alerts_total{level="resolved",scope="pair"}') for url in replicas]
            scored = [counted(url, 'rapport_scoring_events_total{result="scored"}') for url in replicas]
            assert swept == [count / 8 for count in scored], "each replica swept the contacts whose events it scored"
        finally:
            second.stop()
