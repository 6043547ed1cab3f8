"""Scenarios through the real broker and the real service processes: webhooks in, scores and alerts out.

Each test writes under its own tenant, so they share the session's stack without seeing each other.
"""

import asyncio
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from schemas import Alert, Level, PairScore
from services.devstack.story import mentorship, pursuit
from tests.harness.stack import Stack, read_topic

Records = list[tuple[bytes | None, bytes, dict[str, bytes]]]
NOW = datetime.now(UTC).replace(microsecond=0)


def tenant() -> str:
    return f"t-{secrets.token_hex(4)}"


def under(name: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event | {"tenant": name} for event in events]


def touch(event_id: str, name: str, at: datetime, sender: str, contact: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "tenant": name,
        "occurred_at": at.isoformat(),
        "sender": {"id": sender},
        "contact": {"id": contact, "timezone": "Europe/Berlin"},
        "channel": "email",
        "direction": "outbound",
        "kind": "message",
    } | fields


def post(stack: Stack, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 50):
        answer = stack.post_generic({"events": events[start : start + 50]})
        assert answer.status_code == 202, answer.text


def mine(name: str) -> Callable[[bytes | None], bool]:
    return lambda key: key is not None and key.startswith(f"{name}:".encode())


def scores_for(stack: Stack, name: str, count: int) -> list[PairScore]:
    ours = mine(name)
    records = asyncio.run(
        read_topic(stack.bootstrap, "outreach.scores", lambda rs: sum(1 for k, _, _ in rs if ours(k)) >= count)
    )
    scores = [PairScore.model_validate_json(value) for key, value, _ in records if ours(key)]
    assert len({score.event_id for score in scores}) == count, f"expected {count} scored events"
    return sorted(scores, key=lambda score: score.occurred_at)


def alerts_for(stack: Stack, name: str, until: Callable[[list[Alert]], bool], wait: float = 60) -> list[Alert]:
    ours = mine(name)

    def parsed(records: Records) -> list[Alert]:
        return [Alert.model_validate_json(value) for key, value, _ in records if ours(key)]

    records = asyncio.run(read_topic(stack.bootstrap, "outreach.alerts", lambda rs: until(parsed(rs)), wait))
    return parsed(records)


def check(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{stack.url('scoring')}/v1/check", json=body, headers=stack.auth, timeout=10)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


@pytest.mark.slow
def test_the_networker_from_the_demo_reaches_stalking_and_the_mentee_never_alerts(stack: Stack) -> None:
    name = tenant()
    story_run = secrets.token_hex(3)
    post(stack, under(name, mentorship(story_run, NOW)) + under(name, pursuit(story_run, NOW)))
    alerts = alerts_for(stack, name, lambda found: any(a.level == "stalking" for a in found))
    pair_alerts = [(a.sender_id, a.level.value) for a in alerts if a.scope == "pair"]
    assert pair_alerts[:2] == [("rep-sam", "watch"), ("rep-sam", "stalking")]
    stalking = next(a for a in alerts if a.level == "stalking")
    assert {r.rule for r in stalking.reasons} >= {"unanswered_streak", "channel_escalation"}
    assert stalking.next_allowed_at is not None
    assert stalking.next_allowed_at > stalking.occurred_at
    scores = scores_for(stack, name, 21)
    assert {s.level for s in scores if s.sender_id == "mentee-lee"} == {Level.OK}
    assert all(a.sender_id != "mentee-lee" for a in alerts)
    summary = httpx.get(
        f"{stack.url('scoring')}/v1/pairs/{name}/rep-sam/contact-dana", headers=stack.auth, timeout=10
    ).json()
    assert summary["alerted_level"] == "stalking"
    assert summary["touches"] == 13
    answer = check(
        stack,
        {"tenant": name, "sender": {"id": "rep-sam"}, "contact": {"id": "contact-dana"}, "channel": "phone_mobile"},
    )
    assert answer["decision"] == "block"
    assert answer["reasons"]


@pytest.mark.slow
def test_a_mentee_who_writes_weekly_and_always_hears_back_stays_ok(stack: Stack) -> None:
    name = tenant()
    start = NOW - timedelta(weeks=10)
    events = []
    for week in range(10):
        sent = start + timedelta(weeks=week)
        events.append(touch(f"m{week}", name, sent, "mentee", "mentor"))
        events.append(
            touch(f"r{week}", name, sent + timedelta(hours=20), "mentee", "mentor", direction="inbound", kind="reply")
        )
    post(stack, events)
    scores = scores_for(stack, name, 20)
    assert {s.level for s in scores} == {Level.OK}
    assert scores[-1].rapport_score > scores[0].rapport_score
    assert scores[-1].tier in {"established", "trusted"}
    assert alerts_for(stack, name, bool, wait=3) == []


@pytest.mark.slow
def test_three_polite_follow_ups_a_week_apart_stay_at_most_watch(stack: Stack) -> None:
    name = tenant()
    met = NOW - timedelta(days=22)
    after_meeting = [
        touch(
            "meet",
            name,
            met,
            "rep-1",
            "busy",
            channel="meeting",
            direction="inbound",
            kind="meeting",
            outcome="answered",
        ),
        *(touch(f"f{n}", name, met + timedelta(days=1 + 7 * n), "rep-1", "busy") for n in range(3)),
    ]
    cold = [touch(f"c{n}", name, met + timedelta(days=7 * n), "rep-2", "stranger") for n in range(3)]
    post(stack, after_meeting + cold)
    scores = scores_for(stack, name, 7)
    assert max(s.level.rank for s in scores if s.contact_id == "busy") == Level.OK.rank
    assert max(s.level.rank for s in scores if s.contact_id == "stranger") <= Level.WATCH.rank
    follow_up = check(stack, {"tenant": name, "sender": {"id": "rep-1"}, "contact": {"id": "busy"}, "channel": "email"})
    assert follow_up["decision"] in {"allow", "warn"}


@pytest.mark.slow
def test_five_colleagues_writing_twice_a_week_to_one_silent_contact_trip_the_team_rule(stack: Stack) -> None:
    name = tenant()
    start = NOW - timedelta(days=8)
    events = sorted(
        (
            touch(f"{rep}-{n}", name, start + timedelta(days=3.5 * n, hours=5 * rep), f"rep-{rep}", "silent")
            for rep in range(5)
            for n in range(2)
        ),
        key=lambda event: event["occurred_at"],
    )
    post(stack, events)
    alerts = alerts_for(stack, name, lambda found: any(a.scope == "team" for a in found))
    team = [a for a in alerts if a.scope == "team"]
    assert team[0].sender_id is None
    assert team[0].level in {"watch", "nuisance", "stalking"}
    assert any("the team together" in r.message for r in team[-1].reasons)
    scores = scores_for(stack, name, 10)
    assert {s.level for s in scores} == {Level.OK}, "no one sender did anything wrong"
    sixth = check(stack, {"tenant": name, "sender": {"id": "rep-5"}, "contact": {"id": "silent"}, "channel": "email"})
    assert sixth["decision"] in {"warn", "block"}
    assert any(r["rule"].startswith("team_") for r in sixth["reasons"])


@pytest.mark.slow
def test_redelivered_webhooks_are_counted_once_and_alert_once(stack: Stack) -> None:
    name = tenant()
    events = [touch(f"e{n}", name, NOW - timedelta(days=6 - 2 * n), "rep-1", "c") for n in range(3)]
    post(stack, events)
    post(stack, events)
    alerts_for(stack, name, bool)
    post(stack, [touch("late", name, NOW - timedelta(hours=1), "rep-1", "other")])
    scores_for(stack, name, 4)
    alerts = alerts_for(stack, name, bool, wait=3)
    assert [(a.level, a.event_id) for a in alerts] == [("watch", "e2")]
    summary = httpx.get(f"{stack.url('scoring')}/v1/pairs/{name}/rep-1/c", headers=stack.auth, timeout=10).json()
    assert summary["touches"] == 3


@pytest.mark.slow
def test_erasing_a_contact_leaves_nothing_to_look_up(stack: Stack) -> None:
    name = tenant()
    post(stack, [touch("e1", name, NOW - timedelta(days=1), "rep-1", "forget-me")])
    scores_for(stack, name, 1)
    with httpx.Client(base_url=stack.url("scoring"), headers=stack.auth, timeout=10) as scoring:
        assert scoring.get(f"/v1/pairs/{name}/rep-1/forget-me").status_code == 200
        assert scoring.delete(f"/v1/contacts/{name}/forget-me").status_code == 204
        assert scoring.get(f"/v1/pairs/{name}/rep-1/forget-me").status_code == 404
        spec = scoring.get("/openapi.json").json()
    assert "/v1/check" in spec["paths"]
    assert json.dumps(spec)
