"""A scorer on the memory store, killed and restarted, forgets nothing and repeats no alert."""

import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.stack import running_stack
from tests.integration.test_scoring_scenarios import NOW, alerts_for, post, scores_for, tenant, touch


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


@pytest.mark.slow
def test_a_killed_scorer_rebuilds_its_memory_store_from_the_topic(
    kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path: Path
) -> None:
    name = tenant()
    env = {"STATE_STORE_URL": "memory://", "SCORING_GROUP_ID": f"restart-{name}"}
    with running_stack(kafka.bootstrap, tmp_path, names=("ingestion", "scoring"), **env) as stack:
        pair = f"{stack.url('scoring')}/v1/pairs/{name}/rep-1/c"
        post(stack, [touch(f"e{n}", name, NOW - timedelta(days=9 - 3 * n), "rep-1", "c") for n in range(3)])
        assert [a.level for a in alerts_for(stack, name, bool)] == ["watch"]
        assert touches_kept(pair, 3) == 3

        scoring = stack.processes["scoring"]
        time.sleep(1)  # the batch's offsets are committed right after its outputs; let that happen
        scoring.kill()
        scoring.start()
        scoring.wait_ready()
        assert touches_kept(pair, 3) == 3, "the touches scored before the kill are back"

        post(stack, [touch("e3", name, NOW - timedelta(hours=2), "rep-1", "c")])
        scores_for(stack, name, 4)
        assert touches_kept(pair, 4) == 4
        alerts = alerts_for(stack, name, lambda found: len(found) >= 2, wait=10)
    assert [a.level for a in alerts].count("watch") == 1, "the watch alert is not announced again"
    assert len({a.alert_id for a in alerts}) == len(alerts)
