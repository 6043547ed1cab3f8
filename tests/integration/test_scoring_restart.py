"""A scorer on the memory store, killed and restarted, forgets nothing and repeats no alert."""

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from schemas import Alert
from services.runtime.topics import create_topics
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.stack import read_topic, running_stack
from tests.integration.test_scoring_scenarios import NOW, post, tenant, touch


def touches_kept(url: str, expected: int, wait_seconds: float = 60) -> int:
    """The pair's remembered touch count, once it reaches `expected` (or what it is when time runs out)."""
    deadline = time.monotonic() + wait_seconds
    kept = -1
    while time.monotonic() < deadline:
        answer = httpx.get(url, timeout=10)
        kept = answer.json()["touches"] if answer.status_code == 200 else 0
        if kept == expected:
            break
        time.sleep(0.2)
    return kept


def alerts_on(bootstrap: str, topic: str, at_least: int, wait: float = 60) -> list[Alert]:
    records = asyncio.run(read_topic(bootstrap, topic, lambda found: len(found) >= at_least, wait))
    return [Alert.model_validate_json(value) for _, value, _ in records]


@pytest.mark.slow
def test_a_killed_scorer_rebuilds_its_memory_store_from_the_topic(
    kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path: Path
) -> None:
    name = tenant()
    topics = {
        "TOPIC_EVENTS": f"{name}.events",
        "TOPIC_EVENTS_DLQ": f"{name}.events.dlq",
        "TOPIC_SCORES": f"{name}.scores",
        "TOPIC_ALERTS": f"{name}.alerts",
    }
    asyncio.run(create_topics(kafka.bootstrap, list(topics.values()), 3))
    env = topics | {"STATE_STORE_URL": "memory://", "SCORING_GROUP_ID": f"restart-{name}"}
    with running_stack(kafka.bootstrap, tmp_path, names=("ingestion", "scoring"), **env) as stack:
        pair = f"{stack.url('scoring')}/v1/pairs/{name}/rep-1/c"
        post(stack, [touch(f"e{n}", name, NOW - timedelta(days=9 - 3 * n), "rep-1", "c") for n in range(3)])
        assert [a.level for a in alerts_on(stack.bootstrap, topics["TOPIC_ALERTS"], 1)] == ["watch"]
        assert touches_kept(pair, 3) == 3

        scoring = stack.processes["scoring"]
        time.sleep(1)  # the batch's offsets are committed right after its outputs; let that happen
        scoring.kill()
        scoring.start()
        scoring.wait_ready()
        assert touches_kept(pair, 3) == 3, "the touches scored before the kill are back"

        post(stack, [touch("e3", name, NOW - timedelta(hours=2), "rep-1", "c")])
        assert touches_kept(pair, 4) == 4
        alerts = alerts_on(stack.bootstrap, topics["TOPIC_ALERTS"], 2, wait=10)
    assert [a.level for a in alerts].count("watch") == 1, "the watch alert is not announced again"
    assert len({a.alert_id for a in alerts}) == len(alerts)
