"""When a level change is worth an alert, and the alert that says so."""

from datetime import datetime

from schemas import Alert, AlertLevel, Level, OutreachEvent, Scope
from services.scoring.engine.judge import Judgement
from services.scoring.processing.output_ids import alert_id


def announcement(previous: Level, current: Level) -> AlertLevel | None:
    """A rise is announced, and so is the way back to ok; a fall that stops short of ok is not."""
    if current.rank > previous.rank:
        return AlertLevel(current.value)
    if current is Level.OK and previous is not Level.OK:
        return AlertLevel.RESOLVED
    return None


def build_alert(
    event: OutreachEvent,
    scope: Scope,
    *,
    level: AlertLevel,
    previous: Level,
    judgement: Judgement,
    emitted_at: datetime,
    sender_id: str | None = None,
) -> Alert:
    """`sender_id` names the pair when it is not the event's own sender (a consent event re-judges every pair)."""
    sender_id = (sender_id or event.sender_id) if scope is Scope.PAIR else None
    return Alert(
        alert_id=alert_id(event, scope, sender_id, level),
        tenant=event.tenant,
        contact_id=event.contact_id,
        sender_id=sender_id,
        scope=scope,
        previous_level=previous,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        emitted_at=emitted_at,
        **judgement.fields()
        | {"level": level, "next_allowed_at": None if level is AlertLevel.RESOLVED else judgement.next_allowed_at},
    )
