"""Alerts follow the clock through real processes: a pursuit that went quiet is resolved by the sweep, once,
and a restart neither loses nor repeats it."""

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from schemas import Alert, AlertLevel
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
