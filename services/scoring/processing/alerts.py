"""When a level change is worth an alert, and the alert that says so."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from schemas import Alert, AlertLevel, Level, OutreachEvent, Reason, Scope
from services.scoring.engine.judge import Judgement
from services.scoring.engine.wording import spoken_duration
from services.scoring.policy.model import format_duration
from services.scoring.processing.output_ids import alert_id, renewed_alert_id


class Fall(StrEnum):
    """Why a level fell: the rule name of the first reason of a `resolved` or de-escalation alert."""

    ENGAGED = "engaged"
    CONSENT_GIVEN = "consent_given"
    COOL_DOWN_PASSED = "cool_down_passed"


def announcement(previous: Level, current: Level) -> AlertLevel | None:
    """Every change is announced: a rise, the way back to ok (`resolved`), and a fall that stops short of ok (a
    de-escalation, with the lower level), so a reader's view is never worse than the truth."""
    if current is previous:
        return None
    if current is Level.OK:
        return AlertLevel.RESOLVED
    return AlertLevel(current.value)


def fall_reason(fall: Fall, previous: Level, cool_down: int) -> Reason:
    if fall is Fall.ENGAGED:
        message = "the contact engaged (a reply, an answered call or a meeting), which clears the pressure at once"
        return Reason(rule=fall.value, message=message, observed=1, limit=0)
    if fall is Fall.CONSENT_GIVEN:
        message = "the contact gave consent again, so touches after their opt-out no longer count as unwanted"
        return Reason(rule=fall.value, message=message, observed=1, limit=0)
    days = cool_down / 86400
    message = f"nothing as bad as {previous.value} for the whole cool-down of {spoken_duration(cool_down)}"
    return Reason(rule=fall.value, message=message, observed=days, limit=days, window=format_duration(cool_down))


CONTINUES = "continues"
"""The rule name of the first reason of a renewal: a level first announced as history that still holds now."""


def continues_reason(level: Level) -> Reason:
    message = (
        f"the {level.value} reported earlier as already past is still going on: the latest touches keep it current"
    )
    return Reason(rule=CONTINUES, message=message, observed=1, limit=0)


def build_alert(
    event: OutreachEvent,
    scope: Scope,
    *,
    level: AlertLevel,
    previous: Level,
    judgement: Judgement,
    emitted_at: datetime,
    sender_id: str | None = None,
    fall: Reason | None = None,
    renewal: bool = False,
) -> Alert:
    """`sender_id` names the pair when it is not the event's own sender (a consent event re-judges every pair);
    `fall` says why the level fell, and leads the reasons of a fall. A `renewal` announces `previous` again, as
    current (its first announcement went out historical), led by the reason `continues`, under an id of its own."""
    sender_id = (sender_id or event.sender_id) if scope is Scope.PAIR else None
    lead = continues_reason(previous) if renewal else fall
    reasons = judgement.reasons if lead is None else [lead, *judgement.reasons]
    named = renewed_alert_id if renewal else alert_id
    return Alert(
        alert_id=named(event, scope, sender_id, level),
        tenant=event.tenant,
        contact_id=event.contact_id,
        sender_id=sender_id,
        scope=scope,
        previous_level=previous,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        emitted_at=emitted_at,
        **announced(judgement, level, reasons),
    )


def announced(judgement: Judgement, level: AlertLevel, reasons: list[Reason]) -> dict[str, Any]:
    """The judgement's fields as an alert at `level` says them, for the stream's and the sweep's alerts alike:
    a `resolved` names no next welcome time, since nothing is holding the sender back any more."""
    resolved = level is AlertLevel.RESOLVED
    return vars(judgement) | {
        "level": level,
        "reasons": reasons,
        "next_allowed_at": None if resolved else judgement.next_allowed_at,
        "next_allowed_by_channel": {} if resolved else judgement.next_allowed_by_channel,
    }
