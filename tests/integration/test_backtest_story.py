"""The backtest of the product's own story raises the alerts the live system raises for the same events.

The demo story (`services/devstack/story.py`) is posted to the running services one webhook at a time (`make run`
posts each story in one), and also written to a JSON Lines export for `rapport-guard backtest`; both must produce
the same alerts: level, scope, sender, contact and the event that raised each (but for the live scorer's
renewals, which only late arrival makes).
"""

import asyncio
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas import Alert
from services.cli.main import main
from services.devstack.story import mentorship, pursuit
from services.scoring.processing.alerts import CONTINUES
from tests.harness.exports import write_jsonl
from tests.harness.stack import Stack, read_topic

AlertFacts = tuple[str, str, str, str, str]


def story(tenant: str) -> list[dict[str, Any]]:
    """The demo's events under a tenant of this test's own, so no other test's events share a contact."""
    run_id = secrets.token_hex(3)
    now = datetime.now(UTC)
    return [event | {"tenant": tenant} for event in mentorship(run_id, now) + pursuit(run_id, now)]


def renewal(alert: Alert) -> bool:
    """A level first announced as history announced again as current: made only because the story reached the live
    scorer weeks after it happened, one event at a time; the replay scores each event as it happened."""
    return bool(alert.reasons) and alert.reasons[0].rule == CONTINUES


def facts(alert: dict[str, Any], contact: str) -> AlertFacts:
    return (alert["level"], alert["scope"], alert["sender_id"] or "", alert[contact], alert["event_id"])


def test_backtest_of_the_story_gives_the_live_alerts(stack: Stack, tmp_path: Path) -> None:
    tenant = f"story-{secrets.token_hex(4)}"
    events = story(tenant)
    for event in events:
        response = stack.post_generic(event)
        assert response.status_code == 202, response.text
    event_ids = {event["event_id"] for event in events}

    def all_scored(records: list[tuple[bytes | None, bytes, dict[str, bytes]]]) -> bool:
        return event_ids <= {json.loads(value)["event_id"] for _, value, _ in records}

    # A batch's alerts are acknowledged with its scores, so once every event is scored every alert is on Kafka.
    assert all_scored(asyncio.run(read_topic(stack.bootstrap, "outreach.scores", all_scored)))
    out = tmp_path / "report"
    export = write_jsonl(tmp_path / "story.jsonl", events)
    assert (
        main(["backtest", str(export), "--out", str(out), "--identity-key", stack.identity_key, "--show-contacts"]) == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    replayed = [alert for pair in summary["top_pairs"] + summary["top_teams"] for alert in pair["alerts"]]

    def ours(records: list[tuple[bytes | None, bytes, dict[str, bytes]]]) -> list[dict[str, Any]]:
        return [json.loads(value) for _, value, _ in records if json.loads(value)["tenant"] == tenant]

    records = asyncio.run(
        read_topic(stack.bootstrap, "outreach.alerts", lambda records: len(ours(records)) >= len(replayed))
    )
    alerts = [Alert.model_validate(alert) for alert in ours(records)]
    live = [alert.model_dump(mode="json") for alert in alerts if not renewal(alert)]

    assert live, "the story raises alerts on the live system"
    # --show-contacts: the report names contacts by their CRM ids, as the live alerts do
    assert sorted(facts(alert, "contact") for alert in replayed) == sorted(facts(alert, "contact_id") for alert in live)

    # The same pair through `rapport-guard check` against the running scorer: one more call would not be welcome.
    check = [
        "check",
        "--url",
        stack.url("scoring"),
        "--tenant",
        tenant,
        "--sender",
        "rep-sam",
        "--contact",
        "contact-dana",
        "--api-key",
        stack.operator.key,
    ]
    assert main([*check, "--channel", "phone_mobile"]) in {1, 2}
