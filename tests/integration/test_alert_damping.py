"""Fewer, better alerts through real processes: a pursuit that was announced, fell quiet and comes back the same
within the damping window is judged again but not announced again; with damping off it is.

The first wave is current news when scored, and falls with time while the test waits: the policy's cool-down is
20 seconds, so its fall comes from the live sweep rather than from a backfill (a wave first announced as history
was never news, and a second one is announced whatever the damping)."""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from schemas import Alert, AlertLevel, PairScore
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.stack import Stack, own_topics, read_topic, running_stack
from tests.integration.test_scoring_scenarios import post, tenant, touch

DEFAULT_POLICY = Path(__file__).parents[2] / "deploy" / "policy" / "default.yaml"


COOL_DOWN_SECONDS = 20


def wave(name: str, contact: str, label: str) -> list[dict[str, object]]:
    """Five e-mails a second apart, the last one now: stalking under the default limits, and current news."""
    end = datetime.now(UTC).replace(microsecond=0)
    return [touch(f"{label}-{n}", name, end - timedelta(seconds=4 - n), "rep-1", contact) for n in range(5)]


def records(stack: Stack, topic: str, until: object, seconds: float = 60) -> list[bytes]:
    found = asyncio.run(read_topic(stack.bootstrap, getattr(stack.settings, topic), until, seconds))
    return [value for _, value, _ in found]


@pytest.mark.slow
def test_a_second_wave_within_the_window_is_judged_but_announced_only_where_damping_is_off(
    kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path: Path
) -> None:
    damped, undamped = tenant(), tenant()
    policy = tmp_path / "policy.yaml"
    default = DEFAULT_POLICY.read_text()
    assert "  cool_down: 7d " in default
    policy.write_text(
        default.replace("  cool_down: 7d ", f"  cool_down: {COOL_DOWN_SECONDS}s ").replace(
            "tenants: {}", f"tenants:\n  {undamped}:\n    alerts: {{damping: 0s}}"
        )
    )
    env = own_topics(damped) | {"POLICY_FILE": str(policy), "SCORING_SWEEP_SECONDS": "1"}
    with running_stack(kafka.bootstrap, tmp_path, names=("ingestion", "scoring"), **env) as stack:
        # The first wave is news as it happens; once the cool-down has passed, the sweep announces its fall.
        for name in (damped, undamped):
            post(stack, wave(name, "c", "a"))
        fallen = records(
            stack,
            "topic_alerts",
            lambda found: sum(b'"resolved"' in value for _, value, _ in found) >= 2,
            seconds=COOL_DOWN_SECONDS + 60,
        )
        first = [Alert.model_validate_json(value) for value in fallen]
        for name in (damped, undamped):
            news = [alert.level for alert in first if alert.tenant == name and not alert.historical]
            assert AlertLevel.STALKING in news, "the first wave was announced as current news"
        assert sum(b'"resolved"' in value for value in fallen) == 2, "each first wave fell with time"

        # Well inside the 30-day damping window after that fall, the same pressure again, no reply in between;
        # the wave's first touch (four seconds before its last) must come after the fall, not inside the cool-down.
        time.sleep(5)
        for name in (damped, undamped):
            post(stack, wave(name, "c", "b"))
        scored = records(
            stack, "topic_scores", lambda found: sum(b'"event_id":"b-' in value for _, value, _ in found) >= 10
        )
        second = [PairScore.model_validate_json(value) for value in scored if b'"event_id":"b-' in value]
        assert {score.tenant: score.level.value for score in second if score.event_id == "b-4"} == {
            damped: "stalking",
            undamped: "stalking",
        }, "both second waves are judged the same"

        alerts = [Alert.model_validate_json(value) for value in records(stack, "topic_alerts", lambda _: False, 3)]
        rises = {
            name: [alert.level for alert in alerts if alert.tenant == name and alert.event_id.startswith("b-")]
            for name in (damped, undamped)
        }
        assert rises[damped] == [], "the same story again within the window: not announced"
        assert rises[undamped][-1:] == [AlertLevel.STALKING], "damping off: announced"

        summary = httpx.get(f"{stack.url('scoring')}/v1/pairs/{damped}/rep-1/c", headers=stack.auth, timeout=10)
        assert (summary.json()["level"], summary.json()["alerted_level"]) == ("stalking", "ok")
