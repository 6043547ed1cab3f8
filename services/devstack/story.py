"""The demo: one informational interview, then weeks of unanswered e-mails and calls to work and cell phones.

Beside it, a mentee who writes weekly and always gets an answer, so the demo shows what healthy looks like too.
Times are relative to `now`, so `next_allowed_at` lands in the viewer's near future.
"""

from datetime import datetime, timedelta
from typing import Any, NamedTuple

NETWORKER = {"id": "rep-sam", "name": "Sam"}
BUSY_CONTACT = {"id": "contact-dana", "timezone": "Europe/Berlin"}
MENTEE = {"id": "mentee-lee", "name": "Lee"}
MENTOR = {"id": "contact-morgan", "timezone": "America/New_York"}


class Beat(NamedTuple):
    """One touch of the story: days after the interview, hour (UTC), and what happened."""

    day: float
    hour: int
    channel: str
    direction: str
    kind: str
    outcome: str | None = None


_PURSUIT = [
    Beat(0, 14, "meeting", "inbound", "meeting", "answered"),
    Beat(1, 9, "email", "outbound", "message"),
    Beat(4, 9, "email", "outbound", "message"),
    Beat(6, 15, "phone_work", "outbound", "call", "no_answer"),
    Beat(8, 10, "email", "outbound", "message"),
    Beat(9, 16, "phone_mobile", "outbound", "call", "voicemail"),
    Beat(11, 9, "phone_work", "outbound", "call", "no_answer"),
    Beat(12, 18, "phone_mobile", "outbound", "call", "no_answer"),
    Beat(14, 9, "email", "outbound", "message"),
    Beat(16, 12, "sms", "outbound", "message"),
    Beat(19, 9, "email", "outbound", "message"),
    Beat(21, 17, "phone_mobile", "outbound", "call", "voicemail"),
    Beat(25, 9, "email", "outbound", "message"),
]


def _event(event_id: str, sender: dict[str, str], contact: dict[str, str], at: datetime, beat: Beat) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": event_id,
        "tenant": "demo",
        "occurred_at": at.isoformat(),
        "sender": sender,
        "contact": contact,
        "channel": beat.channel,
        "direction": beat.direction,
        "kind": beat.kind,
    }
    if beat.outcome:
        event["outcome"] = beat.outcome
    return event


def pursuit(run_id: str, now: datetime) -> list[dict[str, Any]]:
    """Sam's four weeks of outreach to Dana after one half-hour interview."""
    start = (now - timedelta(days=28)).replace(minute=0, second=0, microsecond=0)
    return [
        _event(
            f"demo-{run_id}-{seq}",
            NETWORKER,
            BUSY_CONTACT,
            start.replace(hour=beat.hour) + timedelta(days=beat.day),
            beat,
        )
        for seq, beat in enumerate(_PURSUIT)
    ]


def mentorship(run_id: str, now: datetime) -> list[dict[str, Any]]:
    """Lee writes to Morgan weekly; Morgan always answers the next day."""
    start = (now - timedelta(days=28)).replace(hour=10, minute=0, second=0, microsecond=0)
    events = []
    for week in range(4):
        sent = start + timedelta(weeks=week)
        events.append(
            _event(f"demo-{run_id}-m{week}", MENTEE, MENTOR, sent, Beat(0, 10, "email", "outbound", "message"))
        )
        events.append(
            _event(
                f"demo-{run_id}-r{week}",
                MENTEE,
                MENTOR,
                sent + timedelta(days=1),
                Beat(1, 10, "email", "inbound", "reply"),
            )
        )
    return events
