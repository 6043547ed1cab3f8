"""Small builders for outreach stories, so a test reads like the behaviour it protects."""

from datetime import UTC, datetime, timedelta

from schemas import Direction, OutreachEvent
from services.scoring.engine.touches import mark_from_event, seconds, touch_from_event
from services.scoring.policy.model import Policy
from services.scoring.state.history import ContactState, note_consent, place
from tests.harness.events import event

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
"""A Monday, 09:00 UTC (10:00 in Berlin)."""
DAY = timedelta(days=1)


def reply(n: int | str, at: datetime, **kwargs: object) -> OutreachEvent:
    return event(n, at, direction=Direction.INBOUND, **kwargs)  # type: ignore[arg-type]


def emails(count: int, every: timedelta, *, start: datetime = T0, sender: str = "rep-1") -> list[OutreachEvent]:
    return [event(f"{sender}-{n}", start + n * every, sender=sender) for n in range(count)]


def state_of(events: list[OutreachEvent], policy: Policy | None = None) -> ContactState:
    """Place every event into one contact's state, the way the processor does before judging."""
    policy = policy or Policy()
    state = ContactState()
    for item in events:
        if item.kind.is_consent:
            note_consent(state, mark_from_event(item))
            continue
        state.note_timezone(item.contact_timezone, seconds(item.occurred_at))
        place(state, item.sender_id, touch_from_event(item, policy), policy)
    return state
