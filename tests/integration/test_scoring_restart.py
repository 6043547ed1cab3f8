"""A scorer on the memory store, killed and restarted, forgets nothing and repeats no score or alert."""

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from schemas import Alert, AlertLevel, PairScore
from services.devstack.processes import ServiceProcess
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.stack import Stack, own_topics, read_topic, running_stack
from tests.integration.test_scoring_scenarios import NOW, post, tenant, touch


def touches_kept(url: str, auth: dict[str, str], expected: int, wait_seconds: float = 60) -> int:
    """The pair's remembered touch count, once it reaches `expected` (or what it is when time runs out)."""
    deadline = time.monotonic() + wait_seconds
    kept = -1
    while time.monotonic() < deadline:
        answer = httpx.get(url, headers=auth, timeout=10)
        kept = answer.json()["touches"] if answer.status_code == 200 else 0
        if kept == expected:
            break
        time.sleep(0.2)
    return kept


def alerts_on(bootstrap: str, topic: str, at_least: int, wait: float = 60) -> list[Alert]:
    records = asyncio.run(read_topic(bootstrap, topic, lambda found: len(found) >= at_least, wait))
    return [Alert.model_validate_json(value) for _, value, _ in records]


@dataclass
class WatchedPair:
    """A scorer on the memory store (own topics and group) that has scored three touches and announced `watch`."""

    stack: Stack
    tenant: str
    topics: dict[str, str]
    group: str

    @property
    def url(self) -> str:
        return f"{self.stack.url('scoring')}/v1/pairs/{self.tenant}/rep-1/c"

    @property
    def scoring(self) -> ServiceProcess:
        return self.stack.processes["scoring"]

    def restarted(self) -> None:
        """Start the scorer again and wait until it remembers the three touches."""
        self.scoring.start()
        self.scoring.wait_ready()
        assert touches_kept(self.url, self.stack.auth, 3) == 3, "the three touches are remembered after the restart"

    def fourth_touch(self) -> list[Alert]:
        """One more touch, scored; then every alert on the topic."""
        post(self.stack, [touch("e3", self.tenant, NOW - timedelta(hours=2), "rep-1", "c")])
        assert touches_kept(self.url, self.stack.auth, 4) == 4
        return alerts_on(self.stack.bootstrap, self.topics["TOPIC_ALERTS"], 2, wait=10)


@contextmanager
def watched_pair(kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path: Path) -> Iterator[WatchedPair]:
    name = tenant()
    topics = own_topics(name)
    group = topics["SCORING_GROUP_ID"]
    env = topics | {"STATE_STORE_URL": "memory://"}
    with running_stack(kafka.bootstrap, tmp_path, names=("ingestion", "scoring"), **env) as stack:
        watched = WatchedPair(stack, name, topics, group)
        post(stack, [touch(f"e{n}", name, NOW - timedelta(days=9 - 3 * n), "rep-1", "c") for n in range(3)])
        assert [a.level for a in alerts_on(stack.bootstrap, topics["TOPIC_ALERTS"], 1)] == ["watch"]
        assert touches_kept(watched.url, stack.auth, 3) == 3
        yield watched


@pytest.mark.slow
def test_a_killed_scorer_rebuilds_its_memory_store_from_the_topic(
    kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path: Path
) -> None:
    with watched_pair(kafka, tmp_path) as watched:
        time.sleep(1)  # the batch's offsets are committed right after its outputs; let that happen
        watched.scoring.kill()
        watched.restarted()
        alerts = watched.fourth_touch()
    assert [a.level for a in alerts].count(AlertLevel.WATCH) == 1, "the watch alert is not announced again"
    assert len({a.alert_id for a in alerts}) == len(alerts)


async def rewind_group(bootstrap: str, group_id: str, topic: str) -> None:
    """Commit offset 0 on every partition: what a scorer killed after publishing but before committing leaves."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        for _ in range(60):
            await consumer.getmany(timeout_ms=500)
            if consumer.assignment():
                break
        await consumer.commit(dict.fromkeys(consumer.assignment(), 0))
    finally:
        await consumer.stop()


@pytest.mark.slow
def test_outputs_published_before_a_crash_are_not_published_again(
    kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path: Path
) -> None:
    with watched_pair(kafka, tmp_path) as watched:
        watched.scoring.stop()
        asyncio.run(rewind_group(watched.stack.bootstrap, watched.group, watched.topics["TOPIC_EVENTS"]))
        watched.restarted()
        alerts = watched.fourth_touch()
        scores_topic = watched.topics["TOPIC_SCORES"]
        scores = asyncio.run(read_topic(watched.stack.bootstrap, scores_topic, lambda found: len(found) >= 5, 10))
    scored = [PairScore.model_validate_json(value).event_id for _, value, _ in scores]
    assert sorted(scored) == ["e0", "e1", "e2", "e3"], "each event's score is on the topic once"
    assert len({headers["score_id"] for _, _, headers in scores}) == 4
    assert [a.level for a in alerts].count(AlertLevel.WATCH) == 1, "the watch alert is not announced again"
